"""Our threads carry their names to the kernel, where per-thread CPU is measured."""

from __future__ import annotations

import threading
from pathlib import Path

from cluster.support.threads import named_thread


def kernel_name(native_id: int) -> str:
    return Path(f"/proc/self/task/{native_id}/comm").read_text().strip()


def test_a_named_thread_has_its_name_in_the_kernel_truncated_to_15_bytes():
    seen: dict[str, str] = {}
    ready, done = threading.Event(), threading.Event()

    def body() -> None:
        seen["kernel"] = kernel_name(threading.get_native_id())
        ready.set()
        done.wait(5)

    thread = named_thread(body, name="capture-alley-entrance-7")
    thread.start()
    ready.wait(5)
    done.set()
    thread.join(5)
    assert thread.name == "capture-alley-entrance-7", "the Python name is the whole name"
    assert seen["kernel"] == "capture-alley-e", f"the kernel keeps the first 15 bytes: {seen}"


def test_threads_a_named_thread_starts_inherit_its_name():
    seen: dict[str, str] = {}

    def child() -> None:
        seen["child"] = kernel_name(threading.get_native_id())

    def parent() -> None:
        inner = threading.Thread(target=child)  # like OpenCV's pool, started from our thread
        inner.start()
        inner.join(5)

    thread = named_thread(parent, name="analysis-cam1")
    thread.start()
    thread.join(5)
    assert seen["child"] == "analysis-cam1", f"helpers are counted with the thread that made them: {seen}"
