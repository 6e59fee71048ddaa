from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from cluster.events import EventStore
from cluster.metrics.events import EventStoreMetrics

from .factory import db_path


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def store(tmp_path, registry):
    """A real store on disk, with its metrics in `registry`."""
    s = EventStore(db_path(tmp_path), metrics=EventStoreMetrics(registry))
    yield s
    s.close()
