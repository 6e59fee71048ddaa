"""The scheduler's state: every camera is in exactly one phase bucket, whatever happens."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.control import CameraNotFound
from cluster.scheduler.records import new_record
from cluster.scheduler.report import CameraPhase
from cluster.scheduler.requests import AddCamera, DrainNode, RemoveCamera, UndrainNode, UpdateCamera
from cluster.scheduler.state import BucketInvariantError, CameraBuckets

from .fakes import TEST_SETTINGS, Harness, camera

PHASES = list(CameraPhase)
IDS = [f"cam{i}" for i in range(5)]


def record(camera_id: str):
    return new_record(camera(camera_id), TEST_SETTINGS, random.Random(0))


def test_a_camera_moves_between_buckets_and_is_in_one_only():
    buckets = CameraBuckets()
    buckets.add(record("a"), CameraPhase.PENDING)
    buckets.move("a", CameraPhase.STARTING)
    assert buckets.phase_of("a") is CameraPhase.STARTING and buckets.count(CameraPhase.PENDING) == 0
    assert [r.camera_id for r in buckets.active()] == ["a"], "STARTING is active"
    buckets.check()


def test_adding_a_camera_twice_is_refused_and_changes_nothing():
    buckets = CameraBuckets()
    buckets.add(record("a"), CameraPhase.RUNNING)
    with pytest.raises(ValueError, match="'a' is already in the running bucket"):
        buckets.add(record("a"), CameraPhase.PENDING)
    assert buckets.phase_of("a") is CameraPhase.RUNNING and len(buckets) == 1
    buckets.check()


def test_unknown_cameras_are_camera_not_found():
    buckets = CameraBuckets()
    for call in (
        lambda: buckets.move("x", CameraPhase.PENDING),
        lambda: buckets.remove("x"),
        lambda: buckets.phase_of("x"),
        lambda: buckets.require("x"),
    ):
        with pytest.raises(CameraNotFound, match="'x'"):
            call()


def test_the_check_catches_a_camera_filed_twice():
    buckets = CameraBuckets()
    rec = record("a")
    buckets.add(rec, CameraPhase.PENDING)
    buckets._buckets[CameraPhase.RUNNING]["a"] = rec  # what a bug would do
    with pytest.raises(BucketInvariantError, match="'a' is in both"):
        buckets.check()


operations = st.lists(
    st.tuples(st.sampled_from(["add", "move", "remove"]), st.sampled_from(IDS), st.sampled_from(PHASES)), max_size=60
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_any_sequence_of_changes_keeps_one_bucket_per_camera(ops):
    buckets = CameraBuckets()
    expected: dict[str, CameraPhase] = {}
    for op, cid, phase in ops:
        if op == "add" and cid not in expected:
            buckets.add(record(cid), phase)
            expected[cid] = phase
        elif op == "move" and cid in expected:
            buckets.move(cid, phase)
            expected[cid] = phase
        elif op == "remove" and cid in expected:
            assert buckets.remove(cid).camera_id == cid
            del expected[cid]
        buckets.check()
    assert {cid: buckets.phase_of(cid) for cid in buckets.ids()} == expected, "the buckets say what was done"
    assert sum(buckets.count(p) for p in PHASES) == len(expected), "each camera counted once"


events = st.lists(
    st.sampled_from(
        [
            "add",
            "add",
            "remove",
            "disable",
            "enable",
            "kill_actor",
            "silence",
            "revive",
            "kill_node",
            "add_node",
            "drain",
            "undrain",
            "step",
            "step",
            "wait",
        ]
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(events, st.randoms(use_true_random=False))
def test_the_control_loop_keeps_every_camera_in_exactly_one_bucket(events, rnd):
    h = Harness()
    h.cluster.add_node("head", 2.0, head=True)
    h.cluster.add_node("w1", 2.0)
    counter = 0
    for event in events:
        known = sorted(h.phases())
        alive_nodes = sorted(n for n, info in h.cluster.nodes.items() if info.alive)
        if event == "add":
            h.ctl.submit(AddCamera(camera(f"c{counter}")))
            counter += 1
        elif event == "remove" and known:
            h.ctl.submit(RemoveCamera(rnd.choice(known)))
        elif event in ("disable", "enable") and known:
            h.ctl.submit(UpdateCamera(camera(rnd.choice(known), enabled=event == "enable")))
        elif event in ("kill_actor", "silence", "revive") and h.cluster.named:
            cid = rnd.choice(sorted(h.cluster.named))
            if event == "kill_actor":
                h.cluster.kill_actor(cid)
            else:
                h.cluster.named[cid].answering = event == "revive"
        elif event == "kill_node" and len(alive_nodes) > 1:
            h.cluster.kill_node(rnd.choice(alive_nodes))
        elif event == "add_node":
            h.cluster.add_node(f"n{len(h.cluster.nodes)}", 2.0)
        elif event in ("drain", "undrain") and alive_nodes:
            h.ctl.submit((DrainNode if event == "drain" else UndrainNode)(rnd.choice(alive_nodes)))
        elif event == "wait":
            h.clock.advance(rnd.choice([0.5, 5.0, 30.0]))
        h.steps(1, advance=1.0)
        h.ctl.state.cameras.check()
        running = {r.camera_id for r in h.ctl.state.cameras.in_phase(CameraPhase.RUNNING)}
        assert all(h.ctl.state.cameras.require(c).actor is not None for c in running), "running means an actor"
        enabled = {r.camera_id for r in h.ctl.state.cameras if r.config.enabled}
        assert set(h.cluster.named) <= enabled, "no actor of a removed or disabled camera survives a step"
