"""Small helpers with no knowledge of cameras: backoff, atomic file writes.

A leaf like `cluster.domain`: nothing here imports the rest of the project.
"""
