"""What a camera counts for admission: a camera that may lower its analysis rate
(`analysis.min_fps`) is admitted at its cost at that floor (graceful overload, issue 16),
and a degraded camera's measurement is scaled back to its full rate."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.config import CameraConfig
from cluster.scheduler.capacity import MAX_STARVATION_SCALE, at_floor, demanded_cores
from cluster.scheduler.prior import MIN_CAMERA_COST, SourceInfo, cost_breakdown
from cluster.scheduler.records import CameraRecord, new_record

from .fakes import TEST_SETTINGS, FakeActor

CLIP = SourceInfo(width=768, height=432, fps=12.5)


def camera(**analysis: object) -> CameraConfig:
    return CameraConfig(id="cam", source={"url": "rtsp://cam.example/stream"}, analysis=analysis)


def test_a_camera_without_a_floor_counts_its_whole_estimate():
    assert at_floor(camera(fps=5.0), 0.3, CLIP) == 0.3, "no min_fps: admitted at its full cost"


def test_a_floor_at_the_full_rate_changes_nothing():
    assert at_floor(camera(fps=5.0, min_fps=5.0), 0.3, CLIP) == 0.3, "min_fps == fps never lowers anything"


def test_the_floor_keeps_decoding_and_scales_the_analysis_share():
    config = camera(fps=5.0, min_fps=1.0)
    full = cost_breakdown(config, CLIP)
    lowered = cost_breakdown(config, CLIP, analysis_fps=1.0)
    assert lowered.decode == full.decode and lowered.base == full.base, "every frame is decoded at any rate"
    assert lowered.motion == pytest.approx(full.motion / 5), "motion follows the rate"
    expected = 0.3 * lowered.raw_total / full.raw_total
    assert at_floor(config, 0.3, CLIP) == pytest.approx(expected), "the estimate scaled by the prior's share"


def test_a_detector_budget_below_the_floor_is_not_discounted():
    config = camera(fps=5.0, min_fps=2.0, detector={"model": "/m/y.cfg", "input_size": 320, "max_fps": 1.0})
    full = cost_breakdown(config, CLIP)
    lowered = cost_breakdown(config, CLIP, analysis_fps=2.0)
    assert lowered.detector == full.detector, "the detector runs at its own 1 fps budget at either rate"


@given(
    fps=st.floats(0.5, 30.0),
    share=st.floats(0.01, 1.0),
    estimate=st.floats(MIN_CAMERA_COST, 4.0),
)
def test_the_floor_cost_is_within_the_minimum_and_the_estimate(fps: float, share: float, estimate: float):
    config = camera(fps=fps, min_fps=max(0.01, fps * share))
    counted = at_floor(config, estimate, CLIP)
    assert MIN_CAMERA_COST <= counted <= estimate + 1e-12, f"{counted} outside [{MIN_CAMERA_COST}, {estimate}]"


def measured(config: CameraConfig, *, cores: float, fps_out: float, target_fps: float = 0.0) -> CameraRecord:
    """A camera whose actor reported `cores` used while analysing `fps_out` of a 12.5 fps source."""
    record = new_record(config, TEST_SETTINGS, random.Random(0))
    reported = FakeActor(config.id, "n", 0.0, config, cpu_percent=cores * 100, source=CLIP).status()
    record.status = replace(
        reported,
        fps_in=12.5,
        fps_out=fps_out,
        target_fps=target_fps,
        degraded=0 < target_fps < config.analysis.fps,
    )
    return record


def test_a_camera_keeping_up_is_costed_at_what_it_used():
    record = measured(camera(fps=5.0), cores=0.2, fps_out=5.0, target_fps=5.0)
    assert demanded_cores(record) == pytest.approx(0.2), "a camera at its full rate needs what it uses"


def test_a_degraded_camera_is_costed_at_its_full_rate():
    config = camera(fps=5.0, min_fps=1.0)
    decode = cost_breakdown(config, CLIP).decode
    record = measured(config, cores=decode + 0.02, fps_out=1.0, target_fps=1.0)
    assert demanded_cores(record) == pytest.approx(decode + 0.02 * 5), (
        "a camera that lowered itself to 1 of 5 fps needs five times its analysis share at its full rate"
    )


def test_a_degraded_camera_also_starved_is_scaled_by_both_within_the_cap():
    config = camera(fps=10.0, min_fps=1.0)
    decode = cost_breakdown(config, CLIP).decode
    record = measured(config, cores=decode + 0.01, fps_out=0.1, target_fps=2.0)
    expected = decode + 0.01 * (10.0 / 2.0) * MAX_STARVATION_SCALE
    assert demanded_cores(record) == pytest.approx(expected), "the chosen share exactly, the starvation capped"
