"""Starting or joining Ray for the `matthan` processes."""

from __future__ import annotations

import logging
import os

import ray

from .config import RayConfig

logger = logging.getLogger(__name__)


def connect(config: RayConfig, address: str | None = None) -> None:
    """Join the cluster at `address` (or config.ray.address), or start a local one."""
    address = address or config.address
    kwargs: dict = {"namespace": config.namespace, "logging_level": logging.WARNING, "configure_logging": True}
    if address is None:
        kwargs.update(num_cpus=config.num_cpus, include_dashboard=False)
        # Camera actors import cv2/ray fast when the worker env is small; keep ours.
        os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    if ray.is_initialized():
        return
    # "local" rather than None: None would silently join any cluster someone
    # started on this machine with `ray start`.
    ray.init(address=address or "local", **kwargs)
    logger.info("Ray %s: %s", "joined" if address else "started locally", ray.get_runtime_context().gcs_address)
