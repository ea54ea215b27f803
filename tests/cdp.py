"""A very small Chrome DevTools Protocol client for the browser tests.

Chromium is started with ``--remote-debugging-pipe``: it reads commands on fd 3 and
writes replies and events on fd 4, each a JSON text ended by a NUL byte. No websocket,
no driver, no download: Debian's chromium is enough, which works offline in CI.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, executable: str, width: int = 1100, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="osgrade-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds() -> None:  # chromium expects the pipe on fds 3 (in) and 4 (out)
            # Move both out of the way first: one may already be 3 or 4, and dup2 onto
            # itself would leave it close-on-exec.
            high_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
            high_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            preexec_fn=fds,  # dup2'd fds are inheritable; close_fds would close 3 and 4
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed its pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(
        self, method: str, session: str | None = None, timeout: float = 30.0, **params: Any
    ) -> Any:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def inspect_page(executable: str, page: Path, screenshot: Path) -> dict[str, Any]:
    """Open ``page``; return its console errors, exceptions, network requests and the sizes
    of its pictures; save a full-page PNG screenshot."""
    browser = Browser(executable)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.events.clear()
        browser.send("Page.navigate", session, url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        sizes = browser.send(
            "Runtime.evaluate",
            session,
            expression=(
                "JSON.stringify([...document.querySelectorAll('svg, figure, table')]"
                ".map(e => { const r = e.getBoundingClientRect();"
                " return [e.tagName.toLowerCase(), r.width, r.height]; }))"
            ),
            returnByValue=True,
        )["result"]["value"]
        metrics = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = browser.send(
            "Page.captureScreenshot",
            session,
            format="png",
            captureBeyondViewport=True,
            clip={
                "x": 0,
                "y": 0,
                "width": metrics["width"],
                "height": metrics["height"],
                "scale": 1,
            },
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        events = browser.events
        return {
            "console_errors": [
                e["params"]
                for e in events
                if e.get("method") == "Runtime.consoleAPICalled"
                and e["params"].get("type") in ("error", "assert")
            ]
            + [
                e["params"]["entry"]
                for e in events
                if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
            ],
            "exceptions": [
                e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"
            ],
            "requests": [
                e["params"]["request"]["url"]
                for e in events
                if e.get("method") == "Network.requestWillBeSent"
            ],
            "pictures": [tuple(x) for x in json.loads(sizes)],
        }
    finally:
        browser.close()
