"""ClusterCollector: the snapshot rendered as metric families at scrape time."""

from __future__ import annotations

import logging
from dataclasses import replace

from prometheus_client import CollectorRegistry, generate_latest

from cluster.domain import CameraState
from cluster.metrics.collector import STATES, ClusterCollector
from cluster.metrics.scheduler import SchedulerSnapshot
from cluster.metrics.snapshot import SnapshotStore

from .exposition import convention_problems, families
from .fakes import FakeClock, cluster_status, meters_snapshot, status, view


def scrape(store: SnapshotStore, clock: FakeClock, stale_after_s: float = 30.0) -> str:
    registry = CollectorRegistry()
    registry.register(ClusterCollector(store, wall_clock=clock, stale_after_s=stale_after_s))
    return generate_latest(registry).decode()


def samples(text: str, name: str) -> dict[tuple, float]:
    """sample name -> {sorted label items: value} for one sample name."""
    found = {}
    for family in families(text).values():
        for s in family.samples:
            if s.name == name:
                found[tuple(sorted(s.labels.items()))] = s.value
    return found


def value(text: str, metric: str, **labels: str) -> float | None:
    return samples(text, metric).get(tuple(sorted(labels.items())))


def store_with(views, clock, **extra) -> SnapshotStore:
    store = SnapshotStore()
    store.put("cameras", tuple(views), clock())
    for source, reading in extra.items():
        store.put(source, reading, clock())
    return store


def test_a_live_camera_renders_counters_gauges_and_info():
    clock = FakeClock()
    text = scrape(store_with([view("cam-1", status("cam-1", metrics=meters_snapshot()))], clock), clock)
    assert value(text, "matthan_camera_up", camera="cam-1") == 1
    assert value(text, "matthan_camera_frames_received_total", camera="cam-1") == 100
    assert value(text, "matthan_camera_frames_analysed_total", camera="cam-1") == 40
    assert value(text, "matthan_camera_frames_skipped_total", camera="cam-1") == 60
    assert value(text, "matthan_camera_detector_runs_total", camera="cam-1") == 7
    assert value(text, "matthan_camera_cpu_cores", camera="cam-1") == 0.25, "25% of a core is 0.25 cores"
    assert value(text, "matthan_camera_frame_age_seconds", camera="cam-1") == 2.0
    assert value(text, "matthan_camera_analysis_target_fps", camera="cam-1") == 5.0, "min(analysis.fps, source)"
    assert (
        value(text, "matthan_camera_info", camera="cam-1", node="node-a", mode="motion-only", name="Camera cam-1") == 1
    )
    assert value(text, "matthan_camera_detections_total", camera="cam-1", **{"class": "person"}) == 3
    assert value(text, "matthan_camera_reconnects_total", camera="cam-1", reason="stalled") == 1
    assert value(text, "matthan_camera_reconnects_total", camera="cam-1", reason="unreachable") == 0
    states = samples(text, "matthan_camera_state")
    assert len(states) == len(STATES), "one-hot over every state, so each state's series always exists"
    assert value(text, "matthan_camera_state", camera="cam-1", state="live") == 1
    assert sum(states.values()) == 1


def test_histograms_are_cumulative_with_count_and_sum():
    clock = FakeClock()
    text = scrape(store_with([view("cam-1", status("cam-1", metrics=meters_snapshot(frames=3)))], clock), clock)
    buckets = {
        dict(k)["le"]: v
        for k, v in samples(text, "matthan_camera_stage_duration_seconds_bucket").items()
        if dict(k)["stage"] == "detector"
    }
    assert buckets["+Inf"] == 3
    assert buckets["0.025"] == 0 and buckets["0.05"] == 3, f"0.03 s belongs in le=0.05: {buckets}"
    counts = list(buckets.values())
    assert counts == sorted(counts), "bucket counts must be cumulative"
    assert value(text, "matthan_camera_stage_duration_seconds_count", camera="cam-1", stage="detector") == 3
    assert abs(value(text, "matthan_camera_stage_duration_seconds_sum", camera="cam-1", stage="detector") - 0.09) < 1e-9
    assert value(text, "matthan_camera_capture_to_publish_seconds_count", camera="cam-1") == 3
    assert {dict(k)["stage"] for k in samples(text, "matthan_camera_stage_duration_seconds_count")} == {
        "decode",
        "motion",
        "detector",
    }


def test_cameras_without_status_are_unobserved_or_disabled_and_not_up():
    clock = FakeClock()
    text = scrape(store_with([view("cam-new", None), view("cam-off", None, enabled=False)], clock), clock)
    assert value(text, "matthan_camera_up", camera="cam-new") == 0
    assert value(text, "matthan_camera_state", camera="cam-new", state="unobserved") == 1
    assert value(text, "matthan_camera_state", camera="cam-off", state="disabled") == 1
    assert value(text, "matthan_camera_enabled", camera="cam-off") == 0
    assert value(text, "matthan_camera_info", camera="cam-new", node="", mode="", name="Camera cam-new") == 1
    assert samples(text, "matthan_camera_frames_received_total") == {}, "no counters without a status"


def test_a_failed_camera_is_down_with_its_state():
    clock = FakeClock()
    st = status("cam-1", state=CameraState.FAILED, fps_in=0.0, last_frame_time=None)
    text = scrape(store_with([view("cam-1", st)], clock), clock)
    assert value(text, "matthan_camera_up", camera="cam-1") == 0
    assert value(text, "matthan_camera_state", camera="cam-1", state="failed") == 1
    assert value(text, "matthan_camera_analysis_target_fps", camera="cam-1") == 0
    assert samples(text, "matthan_camera_frame_age_seconds") == {}, "no frame yet: no age"


def test_frame_age_grows_with_the_scrape_clock():
    clock = FakeClock()
    store = store_with([view("cam-1", status("cam-1"))], clock)
    clock.now += 3.0
    assert value(scrape(store, clock), "matthan_camera_frame_age_seconds", camera="cam-1") == 5.0


def test_a_stale_reading_is_left_out_but_its_age_is_shown():
    clock = FakeClock()
    store = store_with([view("cam-1", status("cam-1"))], clock, cluster=cluster_status())
    clock.now += 31.0
    text = scrape(store, clock, stale_after_s=30.0)
    assert samples(text, "matthan_camera_up") == {}, "frozen values must not be served as current"
    assert samples(text, "matthan_node_up") == {}
    assert value(text, "matthan_metrics_snapshot_age_seconds", source="cameras") == 31.0


def test_cluster_status_renders_nodes_and_totals():
    clock = FakeClock()
    text = scrape(store_with([], clock, cluster=cluster_status(unplaced=("cam-9",))), clock)
    assert value(text, "matthan_cluster_cameras_configured") == 2
    assert value(text, "matthan_cluster_cameras_live") == 1
    assert value(text, "matthan_cluster_cameras_unplaced") == 1
    assert value(text, "matthan_node_up", node="node-a") == 1 and value(text, "matthan_node_up", node="node-b") == 0
    assert value(text, "matthan_node_cameras", node="node-a") == 1
    assert value(text, "matthan_node_load_cores", node="node-a") == 0.8
    assert value(text, "matthan_node_draining", node="node-b") == 1
    assert value(text, "matthan_node_info", node="node-a", address="10.0.0.1") == 1


def test_scheduler_snapshot_renders_moves_recoveries_and_capacity():
    clock = FakeClock()
    snap = SchedulerSnapshot(
        moves_total={"rebalance": 3, "drain": 1},
        recoveries_total=2,
        unplaced_by_reason={"no_capacity": 2},
        cameras_by_phase={"running": 5},
        node_usable_cores={"node-a": 3.4},
        requested_bundles=1,
    )
    text = scrape(store_with([], clock, scheduler=snap), clock)
    assert value(text, "matthan_scheduler_moves_total", reason="rebalance") == 3
    assert value(text, "matthan_scheduler_recoveries_total") == 2
    assert value(text, "matthan_scheduler_unplaced_cameras", reason="no_capacity") == 2
    assert value(text, "matthan_scheduler_cameras", phase="running") == 5
    assert value(text, "matthan_node_usable_cores", node="node-a") == 3.4
    assert value(text, "matthan_scheduler_requested_bundles") == 1


def test_reserved_and_measured_cpu_per_node_and_the_demand_of_unplaced_cameras_are_rendered():
    clock = FakeClock()
    snap = SchedulerSnapshot(
        node_usable_cores={"node-a": 1.6},
        node_reserved_cores={"node-a": 1.5},
        node_measured_cores={"node-a": 0.4},
        unplaced_by_reason={"no_capacity": 2},
        unplaced_demand_cores={"no_capacity": 0.5},
    )
    text = scrape(store_with([], clock, scheduler=snap), clock)
    assert value(text, "matthan_node_cpu_reserved_cores", node="node-a") == 1.5, "what admission counts"
    assert value(text, "matthan_node_cpu_measured_cores", node="node-a") == 0.4, "what the cameras measure"
    assert value(text, "matthan_scheduler_unplaced_demand_cores", reason="no_capacity") == 0.5, "what waits"


def test_one_broken_status_does_not_fail_the_scrape(caplog):
    clock = FakeClock()
    broken = replace(status("cam-bad"), metrics=replace(meters_snapshot(), stage_seconds={"motion": object()}))
    store = store_with([view("cam-bad", broken), view("cam-ok", status("cam-ok"))], clock)
    with caplog.at_level(logging.ERROR, logger="cluster.metrics.collector"):
        text = scrape(store, clock)
    assert value(text, "matthan_camera_up", camera="cam-ok") == 1
    assert "cannot render camera cam-bad" in caplog.text


def test_exposition_follows_the_conventions():
    clock = FakeClock()
    snap = SchedulerSnapshot(
        moves_total={"rebalance": 1},
        recoveries_total=1,
        unplaced_by_reason={"too_big": 1},
        cameras_by_phase={"running": 1},
        node_usable_cores={"node-a": 3.0},
        node_reserved_cores={"node-a": 1.0},
        node_measured_cores={"node-a": 0.5},
        unplaced_demand_cores={"too_big": 2.5},
    )
    store = store_with(
        [view("cam-1", status("cam-1", metrics=meters_snapshot())), view("cam-2", None)],
        clock,
        cluster=cluster_status(),
        scheduler=snap,
    )
    problems = convention_problems(
        scrape(store, clock), {"camera": {"cam-1", "cam-2"}, "node": {"node-a", "node-b", ""}}
    )
    assert problems == []


def test_a_degraded_camera_renders_its_lowered_rate_and_the_degraded_flag():
    clock = FakeClock()
    lowered = replace(status("cam-1"), target_fps=2.0, degraded=True)
    text = scrape(store_with([view("cam-1", lowered), view("cam-2", status("cam-2"))], clock), clock)
    assert value(text, "matthan_camera_analysis_target_fps", camera="cam-1") == 2.0, "the rate it lowered itself to"
    assert value(text, "matthan_camera_analysis_degraded", camera="cam-1") == 1, "a lowered camera is flagged"
    assert value(text, "matthan_camera_analysis_degraded", camera="cam-2") == 0, "a camera at its rate is not"
