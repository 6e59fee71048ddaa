"""Pagination invariants under concurrent writes (hypothesis), as stated in cluster/events/store.py:
no event twice, every event that existed at the first page exactly once, pages in order."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.events import EventFilter, EventStore, Order

from .factory import T0, event, revised

CAMERAS = ["cam-0", "cam-1", "cam-2", "cam-3"]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

# An event: (camera index, start offset in s); few distinct offsets, so ties are common.
event_specs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40)), max_size=40)
# Every camera, one, none, or several (a viewer's scope: one index walk per camera).
camera_filters = (
    st.none() | st.sets(st.sampled_from(CAMERAS), max_size=1) | st.sets(st.sampled_from(CAMERAS), min_size=2)
)


@st.composite
def scenarios(draw):
    return {
        "initial": draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40)), min_size=5, max_size=60)),
        "cameras": draw(camera_filters),
        "order": draw(st.sampled_from(list(Order))),
        "page_size": draw(st.integers(1, 3) | st.integers(4, 12)),
        # Written between pages: new events anywhere in time (live ones after, reprocessed ones
        # before what was paged) and updates of existing ones.
        "between_pages": draw(st.lists(st.tuples(event_specs, st.lists(st.integers(0, 39), max_size=5)), max_size=6)),
    }


class Numbering:
    def __init__(self):
        self.n = 0

    def make(self, specs):
        out = []
        for camera, offset in specs:
            self.n += 1
            out.append(event(self.n, camera=CAMERAS[camera], start=T0 + offset))
        return out


@PROPERTY_SETTINGS
@given(scenarios())
def test_pages_never_skip_or_repeat_while_events_are_written(scenario):
    numbering = Numbering()
    with tempfile.TemporaryDirectory() as tmp, EventStore(Path(tmp) / "events.sqlite3") as store:
        initial = numbering.make(scenario["initial"])
        store.write(initial)
        f = EventFilter(cameras=scenario["cameras"])
        expected = {e.event_id for e in initial if f.matches(e)}
        written = list(initial)
        returned, cursor = [], None
        pending = list(scenario["between_pages"])
        for _ in range(1000):
            page = store.query(f, order=scenario["order"], page_size=scenario["page_size"], cursor=cursor)
            returned += page.events
            cursor = page.cursor
            if pending:
                new_specs, updated = pending.pop(0)
                new = numbering.make(new_specs)
                updates = [
                    revised(written[i], 1, dwell_s=5.0, start_time=T0 + 99.0) for i in updated if i < len(written)
                ]
                store.write(new + updates)
                written += new
            elif not page.has_more:
                break
        got = [e.event_id for e in returned]
        assert len(got) == len(set(got)), "no event is returned twice"
        assert expected <= set(got), f"missing: {expected - set(got)}"
        assert all(f.matches(e) for e in returned), "every event returned matches the filter"
        times = [e.start_time for e in returned]
        wanted = sorted(times, reverse=scenario["order"] is Order.NEWEST_FIRST)
        assert times == wanted, "pages come in the query's order"
