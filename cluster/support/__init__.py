"""Small helpers with no knowledge of cameras: backoff, atomic file writes, private file modes.

A leaf like `cluster.domain`: nothing here imports the rest of the project.
"""
