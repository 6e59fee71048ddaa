"""Start turns (issue 16, the start storm): a node creates at most
`max(1, floor(cpus * max_starts_per_cpu))` camera actors at once; the placed cameras over
that wait, PENDING with the reason, and start as the earlier ones answer."""

from __future__ import annotations

from cluster.scheduler.requests import AddCamera

from .fakes import TEST_SETTINGS, Harness, camera

TURNS = TEST_SETTINGS.replace(max_starts_per_cpu=2.0)


def add(h: Harness, ids: list[str], priority: int = 0) -> None:
    for cid in ids:
        h.ctl.submit(AddCamera(camera(cid, width=160).model_copy(update={"priority": priority})))


def test_a_node_starts_at_most_its_turns_and_the_rest_wait_with_the_reason():
    h = Harness(TURNS)
    h.cluster.add_node("head", 2.0, head=True)
    for node in ("w1", "w2"):
        h.cluster.add_node(node, 0.0)  # keeps the other nodes out: one node takes every camera
    add(h, [f"cam{i:02d}" for i in range(6)])
    h.steps(1)
    phases = h.phases()
    assert len(h.cluster.created) == 4, f"2 CPUs x 2 starts per CPU: 4 actors created, not {len(h.cluster.created)}"
    waiting = [c for c in h.ctl.report().cameras if c.phase.value == "pending"]
    assert len(waiting) == 2, f"the other two wait: {phases}"
    assert all("waiting its turn to start on head" in c.reason for c in waiting), [c.reason for c in waiting]


def test_waiting_cameras_start_as_the_starting_ones_answer():
    h = Harness(TURNS)
    h.cluster.add_node("head", 2.0, head=True)
    add(h, [f"cam{i:02d}" for i in range(6)])
    h.steps(4)
    assert set(h.phases().values()) == {"running"}, f"every camera runs after a few steps: {h.phases()}"
    assert len(h.cluster.created) == 6, "and each actor was created once"


def test_silent_starts_keep_holding_their_turns():
    h = Harness(TURNS)
    h.cluster.add_node("head", 2.0, head=True)
    add(h, [f"cam{i:02d}" for i in range(3)])
    h.steps(1)
    for actor in h.cluster.created:
        actor.answering = False  # still importing: no first answer yet
    add(h, [f"new{i}" for i in range(3)])
    h.steps(1)
    assert len(h.cluster.created) == 4, f"3 silent starts leave one turn: {len(h.cluster.created)} created"
    h.cluster.created[-1].answering = False
    h.steps(3)
    assert len(h.cluster.created) == 4, f"4 silent starts hold all 4 turns: {len(h.cluster.created)} created"


def test_turns_go_to_the_highest_priority_first():
    h = Harness(TURNS.replace(max_starts_per_cpu=1.0))
    h.cluster.add_node("head", 1.0, head=True)
    add(h, ["low"], priority=0)
    add(h, ["high"], priority=5)
    h.steps(1)
    assert [a.camera_id for a in h.cluster.created] == ["high"], "the one turn goes to the higher priority"


def test_every_node_has_at_least_one_turn():
    h = Harness(TURNS.replace(max_starts_per_cpu=0.1))
    h.cluster.add_node("head", 2.0, head=True)
    add(h, ["a", "b"])
    h.steps(1)
    assert len(h.cluster.created) == 1, "a 2-CPU node at 0.1 per CPU still starts one camera at a time"


def test_turns_are_counted_per_node():
    h = Harness(TURNS.replace(max_starts_per_cpu=1.0))
    h.cluster.add_node("head", 2.0, head=True)
    h.cluster.add_node("w1", 2.0)
    add(h, [f"cam{i:02d}" for i in range(8)])
    h.steps(1)
    per_node = {n: len([a for a in h.cluster.created if a.node_id == n]) for n in ("head", "w1")}
    assert per_node == {"head": 2, "w1": 2}, f"two turns on each node: {per_node}"
