"""Cutting a job's pending segments into chains: runs of consecutive segments of one
file, each analysed by one task with one decoder and one warm-up (`runner.run_chain`).

Guarantees of `plan_chains` (tested in `tests/batch/test_chains.py`):

- every chain is consecutive segments of one file, in order (`runner.check_chain`
  accepts it); no segment is in two chains, and every segment given is in one;
- at most `count` chains come back when the segments allow it: a run of consecutive
  segments is never merged with another (different files, or a segment between them
  done or running elsewhere), so more runs than `count` give one chain per run, the
  oldest first, and the caller submits the first `count`;
- with fewer runs than `count`, the run with the most footage is split (at the
  boundary nearest its footage's middle) until there are `count` chains or every
  chain is one segment, so the chains are of about equal footage: two free slots get
  two chains of about half the job each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .segments import Segment


def plan_chains(segments: Sequence[Segment], count: int, length_s: Callable[[Segment], float]) -> list[list[Segment]]:
    """Chains of `segments` (in file and segment order) for `count` tasks (see the module)."""
    if count < 1:
        raise ValueError(f"chains are planned for at least one task, got {count}")
    ordered = sorted(segments, key=lambda s: (s.file_index, s.index))
    runs: list[list[Segment]] = []
    for segment in ordered:
        last = runs[-1][-1] if runs else None
        if last is not None and last.file_index == segment.file_index and last.index + 1 == segment.index:
            runs[-1].append(segment)
        else:
            runs.append([segment])
    while len(runs) < count:
        splittable = [r for r in runs if len(r) > 1]
        if not splittable:
            break
        longest = max(splittable, key=lambda r: sum(length_s(s) for s in r))
        position = runs.index(longest)
        runs[position : position + 1] = _halves(longest, length_s)
    return runs


def _halves(run: list[Segment], length_s: Callable[[Segment], float]) -> list[list[Segment]]:
    """`run` cut at the boundary nearest the middle of its footage (both halves non-empty)."""
    total = sum(length_s(s) for s in run)
    best, best_miss, before = 1, float("inf"), 0.0
    for cut in range(1, len(run)):
        before += length_s(run[cut - 1])
        miss = abs(before - total / 2)
        if miss < best_miss:
            best, best_miss = cut, miss
    return [run[:best], run[best:]]
