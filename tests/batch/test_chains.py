"""plan_chains' guarantees (the module docstring), over generated sets of pending segments."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.batch.chains import plan_chains
from cluster.batch.runner import check_chain
from cluster.batch.segments import Segment


def file_segments(file_index: int, lengths: list[float]) -> list[Segment]:
    segments, start = [], 0.0
    for number, length in enumerate(lengths):
        end = None if number == len(lengths) - 1 else start + length
        segments.append(Segment(file_index, number, start, end, max(0.0, start - 5.0)))
        start += length
    return segments


def length_of(lengths: dict[str, float]):
    return lambda segment: lengths[segment.key]


files = st.lists(st.lists(st.floats(1.0, 600.0), min_size=1, max_size=12), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(layout=files, count=st.integers(1, 8), data=st.data())
def test_chains_partition_the_pending_segments_into_consecutive_runs(layout, count, data) -> None:
    every = [s for number, lengths in enumerate(layout) for s in file_segments(number, lengths)]
    pending = data.draw(st.lists(st.sampled_from(every), min_size=1, unique=True), label="pending")
    lengths = {s.key: s.length_s(sum(layout[s.file_index])) for s in every}

    chains = plan_chains(pending, count, length_of(lengths))

    for chain in chains:
        check_chain(chain)  # raises unless consecutive segments of one file, in order
    keys = [s.key for chain in chains for s in chain]
    assert sorted(keys) == sorted(s.key for s in pending), f"each pending segment in exactly one chain: {chains}"
    runs = sum(1 for s in pending if not any(o.file_index == s.file_index and o.index == s.index - 1 for o in pending))
    assert len(chains) == max(runs, min(count, len(pending))), (
        f"{count} chains when the {runs} runs allow it, never a run cut needlessly: {chains}"
    )


def test_two_slots_get_two_chains_of_about_half_the_footage() -> None:
    segments = file_segments(0, [600.0] * 5 + [610.0])  # an hour at 600 s segments
    lengths = {s.key: 600.0 if s.end_s is not None else 610.0 for s in segments}

    chains = plan_chains(segments, 2, length_of(lengths))

    assert [[s.index for s in c] for c in chains] == [[0, 1, 2], [3, 4, 5]], f"two halves: {chains}"


def test_one_slot_gets_the_whole_run_as_one_chain() -> None:
    segments = file_segments(0, [300.0] * 12)
    chains = plan_chains(segments, 1, lambda s: 300.0)
    assert chains == [segments], "one chain, one warm-up"


def test_a_gap_in_the_pending_segments_cuts_the_chain() -> None:
    segments = file_segments(0, [300.0] * 6)
    pending = [s for s in segments if s.index != 2]  # segment 2 done (or running) already
    chains = plan_chains(pending, 1, lambda s: 300.0)
    assert [[s.index for s in c] for c in chains] == [[0, 1], [3, 4, 5]], f"never across a gap: {chains}"
