"""The grading engine: assignments, submissions, the sandboxed worker, the property runner."""
