"""The `events:` config section (not yet in the root config: the lead wires it in)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from cluster.config.events import EventRetentionConfig, EventsConfig
from cluster.config.root import format_validation_error
from cluster.domain import Severity
from cluster.events import EventStore


def all_fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        yield prefix + name, info
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            yield from all_fields(info.annotation, f"{prefix}{name}.")


def test_every_key_has_a_description():
    missing = [name for name, info in all_fields(EventsConfig) if not (info.description or "").strip()]
    assert missing == [], f"keys without a description: {missing}"


def test_the_defaults_are_valid():
    config = EventsConfig()
    assert config.batch.max_events <= config.batch.max_buffered


def test_there_is_an_age_limit_for_every_severity():
    ages = EventRetentionConfig().max_age_s()
    assert set(ages) == {s.value for s in Severity}, "a new severity needs its retention field"


@pytest.mark.parametrize(
    "data, key",
    [
        ({"batch": {"max_events": 0}}, "batch.max_events"),
        ({"batch": {"flush_interval_s": 0}}, "batch.flush_interval_s"),
        ({"batch": {"max_buffered": 10}}, "batch.max_buffered"),
        ({"batch": {"retry_initial_s": 5, "retry_max_s": 1}}, "batch"),
        ({"retention": {"info_max_age_days": 0}}, "retention.info_max_age_days"),
        ({"retention": {"max_total_mb": 0.5}}, "retention.max_total_mb"),
        ({"store": {"synchronous": "off"}}, "store.synchronous"),
        ({"store": {"busy_timeout_s": 0}}, "store.busy_timeout_s"),
        ({"store": {"wal": True}}, "store.wal"),
    ],
)
def test_bad_values_are_refused_naming_the_key(data, key):
    with pytest.raises(ValidationError) as raised:
        EventsConfig.model_validate(data)
    assert format_validation_error(raised.value).startswith(f"{key}: "), format_validation_error(raised.value)


def test_a_relative_path_is_under_the_state_dir():
    assert EventsConfig().store.resolved_path(Path("/var/matthan")) == Path("/var/matthan/events.sqlite3")
    absolute = EventsConfig.model_validate({"store": {"path": "/data/events.db"}})
    assert absolute.store.resolved_path(Path("/var/matthan")) == Path("/data/events.db")


def test_a_store_opens_from_the_config(tmp_path):
    config = EventsConfig.model_validate(
        {"store": {"path": "events/store.sqlite3", "synchronous": "full"}, "retention": {"info_max_age_days": 2}}
    )
    with EventStore.from_config(config, tmp_path) as store:
        assert store.path == tmp_path / "events" / "store.sqlite3" and store.path.exists()
        assert store.retention.max_age_s[Severity.INFO] == 2 * 86400
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2, "FULL"
