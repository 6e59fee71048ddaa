"""A permissive umask for tests of file modes: what they check must not come from the
umask the test runner happens to have."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def open_umask() -> Iterator[int]:
    """umask 0: every file and directory would be world-readable (and writable) by default."""
    previous = os.umask(0)
    try:
        yield 0
    finally:
        os.umask(previous)
