"""The untrusted side of the trust boundary: code that runs in the worker subprocess.

Everything in this package runs in the sandboxed worker next to student code, with
only the standard library available: it must never import anything else (no
pydantic, no hypothesis, nothing from ``grader.engine`` or ``grader.report``).

- ``worker_main``: the program the parent starts (``python -I -S -B worker_main.py``);
  it reads length-prefixed JSON requests from a private pipe, imports the student
  module, calls an allowed entry point and writes plain JSON replies back.
- ``entries``: a generic entry point (call one function of the submission) and the
  strict plain-data copier every reply goes through.

The parent (``grader.engine.worker``) treats every byte coming back as untrusted and
re-validates it; nothing here is relied upon for grading decisions.
"""
