"""osgrade: an autograder for operating-systems courses.

This file stays import-free: the sandboxed worker imports ``grader.simos`` with
only the standard library available.
"""

__version__ = "0.1.0"
