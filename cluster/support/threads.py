"""Threads whose operating-system name says whose they are.

Python's `threading` names exist only inside Python: `top -H`, `/proc/<pid>/task/*/comm`,
`perf` and `py-spy --native` see every thread of a camera actor under the process's
title. A camera actor runs about 90 threads (Ray's core worker and gRPC, ours, OpenCV's
and FFmpeg's), and telling ours from Ray's is how the system's own cost is measured
(issue 16: `bench/camera_throughput.py` adds up CPU per thread name). So our threads
set their kernel name (15 bytes, Linux `PR_SET_NAME`) as they start; threads they
create (OpenCV's pool, FFmpeg's decoder threads) inherit it, so the analysis' helpers
are counted as the analysis.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable
from typing import Any

_PR_SET_NAME = 15
_MAX_NAME_BYTES = 15  # the kernel keeps 16 bytes, the last a NUL

_libc: Any = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # no libc to ask: threads keep the process's name
        _libc = None


def set_os_thread_name(name: str) -> None:
    """Name the calling thread for the kernel (truncated to 15 bytes; a no-op off Linux)."""
    if _libc is None:
        return
    raw = name.encode("utf-8", "replace")[:_MAX_NAME_BYTES]
    _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(raw), 0, 0, 0)


def named_thread(
    target: Callable[..., object], *, name: str, args: tuple = (), daemon: bool = True
) -> threading.Thread:
    """A thread (not started) called `name` in Python and, once it runs, for the kernel."""

    def run() -> None:
        set_os_thread_name(name)
        target(*args)

    return threading.Thread(target=run, name=name, daemon=daemon)
