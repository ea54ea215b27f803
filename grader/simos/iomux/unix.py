"""Unix-domain stream sockets (net/unix/af_unix.c): socket pairs, listeners, connect, accept.

Data travels in skbs (one per write chunk) queued on the receiver. Each skb is charged
to its sender's send buffer (``wmem``, its truesize) until the receiver has read it all.
A write needs ``wmem < sndbuf``; POLLOUT needs ``4 * (wmem + 1) <= sndbuf``. Truesizes
follow Linux's allocator for writes up to 3776 bytes; above that they are approximate,
so capacity does not match Linux byte for byte beyond that size.

Wake-ups: data arriving (a write, an out-of-band byte, a connection on a listener) wakes
the receiver with key IN|PRI|RDNORM|RDBAND; a read that frees the sender's skbs wakes
the sender with key OUT|WRNORM|WRBAND when it is writable again; shutdown and close wake
with no key.
"""

from __future__ import annotations

from collections import deque

from .events import (
    EAGAIN,
    ECONNREFUSED,
    ECONNRESET,
    EINVAL,
    ENOTCONN,
    EPIPE,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    EPOLLPRI,
    EPOLLRDBAND,
    EPOLLRDHUP,
    EPOLLRDNORM,
    EPOLLWRBAND,
    EPOLLWRNORM,
)
from .files import WaitQueue
from .model import KernelError

SNDBUF = 212992  # net.core.wmem_default
SKB_MAX_HEAD = 3776  # SKB_WITH_OVERHEAD(PAGE_SIZE): bytes held in the skb head
MAX_SKB_DATA = SKB_MAX_HEAD + 32768  # one skb carries at most this (plus UNIX_SKB_FRAGS_SZ)
RCV_SHUTDOWN, SEND_SHUTDOWN = 1, 2
SHUTDOWN_MASK = RCV_SHUTDOWN | SEND_SHUTDOWN

DATA_READY_KEY = EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND  # sock_def_readable
WRITE_SPACE_KEY = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND  # unix_write_space


def truesize(n: int) -> int:
    """Bytes an ``n``-byte skb charges to its sender (exact for n <= 3776 on x86-64)."""
    head = min(n, SKB_MAX_HEAD)
    need = (head + 63) // 64 * 64 + 320  # data, cache-aligned, plus skb_shared_info
    size = 512
    while size < need:
        size *= 2
    total = size + 256  # the kmalloc'ed head plus struct sk_buff
    frag = n - head
    if frag > 0:  # page fragments: an approximation
        total += max(512, 1 << (frag - 1).bit_length()) if frag <= 4096 else -(-frag // 4096) * 4096
    return total


class Skb:
    __slots__ = ("data", "embryo", "oob", "sender", "truesize")

    def __init__(self, sender: UnixSocket, data: bytes, *, oob: bool = False) -> None:
        self.sender = sender
        self.data = bytearray(data)  # the unread bytes
        self.truesize = truesize(max(len(data), 1))
        self.oob = oob
        self.embryo: UnixSocket | None = None  # on a listener: the connection waiting for accept


class UnixSocket:
    __slots__ = (
        "backlog",
        "dead",
        "err",
        "listening",
        "oob_skb",
        "peer",
        "rcvq",
        "shutdown",
        "sndbuf",
        "wmem",
        "wq",
    )

    def __init__(self) -> None:
        self.listening = False
        self.backlog = 0
        self.shutdown = 0  # RCV_SHUTDOWN | SEND_SHUTDOWN bits
        self.err = 0  # a pending error (ECONNRESET), reported once by a read
        self.peer: UnixSocket | None = None
        self.rcvq: deque[Skb] = deque()
        self.oob_skb: Skb | None = None
        self.wmem = 0  # truesize of our skbs not yet read by the peer
        self.sndbuf = SNDBUF
        self.wq = WaitQueue()
        self.dead = False

    # ------------------------------------------------------------------ readiness

    def writable(self, extra: int = 1) -> bool:
        """unix_writable: ``(sk_wmem_alloc << 2) <= sk_sndbuf``; wmem_alloc starts at 1."""
        return not self.listening and (self.wmem + extra) * 4 <= self.sndbuf

    def poll(self) -> int:
        """unix_poll."""
        mask = 0
        if self.err:
            mask |= EPOLLERR
        if self.shutdown == SHUTDOWN_MASK:
            mask |= EPOLLHUP
        if self.shutdown & RCV_SHUTDOWN:
            mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM
        if self.rcvq:
            mask |= EPOLLIN | EPOLLRDNORM
        if self.oob_skb is not None:
            mask |= EPOLLPRI
        if self.writable():
            mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND
        return mask

    # ------------------------------------------------------------------ data

    def _connected_peer(self) -> UnixSocket:
        if self.listening or self.peer is None:
            raise KernelError(ENOTCONN)
        if self.shutdown & SEND_SHUTDOWN:
            raise KernelError(EPIPE)
        return self.peer

    def _queue(self, other: UnixSocket, skb: Skb) -> None:
        self.wmem += skb.truesize
        other.rcvq.append(skb)
        other.wq.wake(DATA_READY_KEY)

    def send(self, data: bytes) -> int:
        """unix_stream_sendmsg, non-blocking: may write part; raises ENOTCONN, EPIPE, EAGAIN."""
        other = self._connected_peer()
        sent = 0
        while sent < len(data):
            if self.wmem >= self.sndbuf:
                if sent:
                    break
                raise KernelError(EAGAIN)
            if other.dead or other.shutdown & RCV_SHUTDOWN:
                if sent:
                    break
                raise KernelError(EPIPE)
            size = min(len(data) - sent, MAX_SKB_DATA)
            self._queue(other, Skb(self, data[sent : sent + size]))
            sent += size
        return sent

    def send_oob(self) -> int:
        """send(fd, "!", MSG_OOB): one out-of-band byte (POLLPRI at the peer until it is read)."""
        other = self._connected_peer()
        if self.wmem >= self.sndbuf:
            raise KernelError(EAGAIN)
        if other.dead or other.shutdown & RCV_SHUTDOWN:
            raise KernelError(EPIPE)
        skb = Skb(self, b"!", oob=True)
        other.oob_skb = skb
        self._queue(other, skb)
        return 1

    def _free(self, skb: Skb) -> None:
        """consume_skb: uncharge the sender; it wakes if that made it writable (sock_wfree)."""
        sender = skb.sender
        sender.wmem -= skb.truesize
        if not sender.dead and sender.writable(extra=2):
            sender.wq.wake(WRITE_SPACE_KEY)

    def _skip_oob(self, skb: Skb, copied: int) -> Skb | None:
        """manage_oob: the out-of-band byte is not part of the stream (no SO_OOBINLINE)."""
        if skb is not self.oob_skb:
            return skb
        if copied:
            return None  # stop at the mark
        self.oob_skb = None
        self.rcvq.popleft()
        self._free(skb)
        return self.rcvq[0] if self.rcvq else None

    def recv(self, n: int) -> bytes:
        """unix_stream_read_generic, non-blocking: ``b""`` at end of stream."""
        if self.listening:
            raise KernelError(EINVAL)
        if n == 0:
            return b""
        out = bytearray()
        while len(out) < n:
            skb: Skb | None = self.rcvq[0] if self.rcvq else None
            if skb is not None:
                skb = self._skip_oob(skb, len(out))
                if skb is None and out:
                    break
            if skb is None:
                if out:
                    break
                if self.err:
                    err, self.err = self.err, 0
                    raise KernelError(err)
                if self.shutdown & RCV_SHUTDOWN:
                    return b""
                raise KernelError(EAGAIN)
            take = min(len(skb.data), n - len(out))
            out += skb.data[:take]
            del skb.data[:take]
            if skb.data:
                break  # an skb read in part ends the read
            self.rcvq.popleft()
            self._free(skb)
        return bytes(out)

    # ------------------------------------------------------------------ connections

    def do_shutdown(self, how: int) -> None:
        """unix_shutdown: SHUT_RD=0, SHUT_WR=1, SHUT_RDWR=2; the peer gets the mirror bits."""
        if how not in (0, 1, 2):
            raise KernelError(EINVAL)
        mode = (how + 1) & SHUTDOWN_MASK
        self.shutdown |= mode
        self.wq.wake(0)
        other = self.peer
        if other is not None:
            peer_mode = (SEND_SHUTDOWN if mode & RCV_SHUTDOWN else 0) | (
                RCV_SHUTDOWN if mode & SEND_SHUTDOWN else 0
            )
            other.shutdown |= peer_mode
            other.wq.wake(0)

    def connect_to(self, listener: UnixSocket | None) -> UnixSocket:
        """unix_stream_connect, non-blocking: queue an embryo on ``listener``; returns it."""
        if listener is None or not listener.listening or listener.dead:
            raise KernelError(ECONNREFUSED)
        if listener.shutdown & RCV_SHUTDOWN:
            raise KernelError(ECONNREFUSED)
        if len(listener.rcvq) > listener.backlog:
            raise KernelError(EAGAIN)
        embryo = UnixSocket()
        embryo.peer, self.peer = self, embryo
        skb = Skb(embryo, b"")
        skb.truesize = 0  # charged to the embryo, which nobody polls
        skb.embryo = embryo
        listener.rcvq.append(skb)
        listener.wq.wake(DATA_READY_KEY)
        return embryo

    def accept(self) -> UnixSocket:
        """unix_accept, non-blocking: the oldest queued connection."""
        if not self.listening:
            raise KernelError(EINVAL)
        if not self.rcvq:
            raise KernelError(EAGAIN)
        skb = self.rcvq.popleft()
        assert skb.embryo is not None
        return skb.embryo

    def release(self, embryo: bool = False) -> None:
        """unix_release_sock: the last close (or the listener of an unaccepted embryo closed)."""
        was_listening = self.listening
        self.dead = True
        self.shutdown = SHUTDOWN_MASK
        self.listening = False
        self.oob_skb = None
        pair, self.peer = self.peer, None
        if pair is not None:
            pair.shutdown = SHUTDOWN_MASK
            if self.rcvq or embryo:
                pair.err = ECONNRESET
            pair.wq.wake(0)
        while self.rcvq:
            skb = self.rcvq.popleft()
            if was_listening and skb.embryo is not None:
                skb.embryo.release(embryo=True)
            self._free(skb)
