"""Suite-wide fixtures: where the shared media/models are, and a session Ray."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.file_modes import open_umask  # noqa: F401 - a fixture for every test directory

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """`../shared` beside the repo, or wherever MATTHAN_SHARED points."""
    return Path(os.environ.get("MATTHAN_SHARED", REPO_ROOT.parent / "shared")).resolve()


def test_file_roots() -> list[str]:
    """`server.file_roots` for test servers: the shared media and models, and pytest's tmp dirs."""
    return [str(shared_dir()), tempfile.gettempdir()]


test_file_roots.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "media").is_dir():
        pytest.fail(f"shared data not found at {path}; set MATTHAN_SHARED")
    return path


@pytest.fixture(scope="session")
def media(shared: Path) -> Path:
    return shared / "media"


@pytest.fixture(scope="session")
def models(shared: Path) -> Path:
    return shared / "models" / "yolo-fastest-1.1"


@pytest.fixture
def ray_local():
    """A local Ray instance shared by the tests that need one.

    Started on first use and kept for the session; tests that build their own
    multi-node cluster shut it down, and the next user starts it again.
    """
    import ray

    from tests.ray_cluster import init_local

    if not ray.is_initialized():
        init_local(  # address "local": never join a cluster someone started with `ray start` here
            num_cpus=2,  # this machine's size: the scheduler admits cameras by what they cost (issue 9)
            include_dashboard=False,
            namespace="matthan-test",
            logging_level="WARNING",
            log_to_driver=False,
        )
    return ray
