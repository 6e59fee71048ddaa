"""Shared pieces of the scheduler tests on real Ray clusters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray

from cluster.actors.camera_actor import ACTOR_NAME_PREFIX
from cluster.config import AnalysisConfig, CameraConfig, SourceConfig
from cluster.demo import ClipSpec, ensure_demo_clips
from tests.fixtures.waiting import wait_until as shared_wait_until

# 160x96 at 4 fps, 4 s, looping: about 1% of a core per camera actor here.
TINY_CLIP = ClipSpec("tiny", seed=7, people=1, vehicles=1, seconds=4.0, fps=4.0, width=160, height=96)

# Ray notices a SIGKILLed node after a few seconds instead of the default 15-30 s.
FAST_NODE_FAILURE_DETECTION = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 3,
}


def tiny_clip(directory: Path) -> Path:
    return ensure_demo_clips(directory, (TINY_CLIP,))[0]


def tiny_camera(camera_id: str, clip: Path) -> CameraConfig:
    return CameraConfig(
        id=camera_id,
        source=SourceConfig(url=str(clip), loop=True, realtime=True),
        analysis=AnalysisConfig(fps=1.0),
    )


def run(coro) -> Any:
    """Run one client call from synchronous test code."""
    return asyncio.run(coro)


def wait_until(
    condition: Callable[[], Any], timeout: float, describe: Callable[[], str] | str, poll_s: float = 1.0
) -> Any:
    """Poll `condition` (exceptions count as not yet, e.g. the scheduler restarting)."""
    return shared_wait_until(condition, timeout, describe, poll_s=poll_s, tolerate_errors=True)


def named_camera_actors(namespace: str) -> list[str]:
    """Camera ids of the alive named camera actors of `namespace` (one per camera, if all is well)."""
    return sorted(
        entry["name"][len(ACTOR_NAME_PREFIX) :]
        for entry in ray.util.list_named_actors(all_namespaces=True)
        if entry.get("namespace") == namespace and entry.get("name", "").startswith(ACTOR_NAME_PREFIX)
    )
