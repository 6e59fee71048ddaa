"""Retention of a real recording: by age per mode, by a disk budget (oldest first),
and evidence holds that survive both until released."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config.recording import DAY_S, RetentionConfig
from cluster.recordings.chain import EntryKind, read_chain, verify_chain
from cluster.recordings.holds import HoldNotFound, place_hold, read_holds, release_hold
from cluster.recordings.index import live_segments
from cluster.recordings.retention import apply_retention, plan_retention

from .footage import T0


def _live(camera_dir: Path):
    return live_segments(read_chain(camera_dir))


def test_age_deletes_segments_older_than_their_mode_allows(recorded: Path) -> None:
    segments = _live(recorded)
    config = RetentionConfig(continuous_days=1.0, motion_days=30.0)
    now = segments[3].end + DAY_S + 1.0  # the first four ended more than a day ago
    deleted = apply_retention(recorded, config, now)
    assert [d.entry.index for d in deleted] == [s.index for s in segments[:4]], "the four oldest go, oldest first"
    assert all(not (recorded / s.file).exists() for s in segments[:4]), "their files are gone"
    assert all((recorded / s.file).exists() for s in segments[4:]), "the younger ones stay"
    assert verify_chain(recorded, "cam-1").ok, "deletions on purpose are on the chain: it still verifies"
    kinds = [e.kind for e in read_chain(recorded)[-4:]]
    assert kinds == [EntryKind.DELETED] * 4, "each deletion is an entry"


def test_age_follows_the_mode_a_segment_was_recorded_in(recorded: Path) -> None:
    segments = _live(recorded)
    config = RetentionConfig(continuous_days=30.0, motion_days=1.0)
    assert plan_retention(read_chain(recorded), [], config, segments[-1].end + 2 * DAY_S) == [], (
        "continuous footage is kept by continuous_days, not motion_days"
    )


def test_budget_deletes_the_oldest_until_the_rest_fits(recorded: Path) -> None:
    segments = _live(recorded)
    sizes = [int(s.fields["bytes"]) for s in segments]
    budget = sum(sizes[-3:])  # room for the newest three
    deleted = apply_retention(recorded, RetentionConfig(max_bytes=budget), T0 + 60.0)
    assert [d.entry.index for d in deleted] == [s.index for s in segments[:-3]], "oldest first, until it fits"
    assert sum(int(s.fields["bytes"]) for s in _live(recorded)) <= budget, "what is left fits the budget"


def test_a_hold_survives_age_and_budget_until_released(recorded: Path) -> None:
    segments = _live(recorded)
    held = segments[1]
    hold = place_hold(
        recorded, "cam-1", held.start + 0.5, held.end - 0.5, reason="collision, case 114", placed_by="operator", now=T0
    )
    config = RetentionConfig(continuous_days=1.0, max_bytes=1)
    deleted = apply_retention(recorded, config, T0 + 10 * DAY_S)
    kept = _live(recorded)
    assert [s.index for s in kept] == [held.index], f"only the held segment survives, kept {[s.index for s in kept]}"
    assert held.index not in [d.entry.index for d in deleted], "the held segment is never chosen"
    assert (recorded / held.file).exists(), "and its file is still there"

    release_hold(recorded, "cam-1", hold.hold_id, reason="case closed", released_by="operator", now=T0 + 11 * DAY_S)
    assert read_holds(recorded) == [], "a released hold is gone"
    apply_retention(recorded, config, T0 + 11 * DAY_S)
    assert _live(recorded) == [], "once released, retention takes the segment too"
    audit = (recorded / "audit.jsonl").read_text()
    assert '"action": "hold"' in audit and '"action": "release"' in audit, "placing and releasing are audited"


def test_a_hold_needs_a_reason_and_a_forward_range(recorded: Path) -> None:
    with pytest.raises(ValueError, match="reason"):
        place_hold(recorded, "cam-1", T0, T0 + 5, reason="  ", placed_by="operator", now=T0)
    with pytest.raises(ValueError, match="end after it starts"):
        place_hold(recorded, "cam-1", T0 + 5, T0, reason="why", placed_by="operator", now=T0)
    with pytest.raises(HoldNotFound, match="hold-nope"):
        release_hold(recorded, "cam-1", "hold-nope", reason="why", released_by="operator", now=T0)
