"""The camera CPU cost prior and its refinement by measurement."""

from __future__ import annotations

import math

import pytest

from cluster.config import CameraConfig
from cluster.scheduler.cost import SMOOTHING_TIME_CONSTANT_S, CostBasis, CostModel
from cluster.scheduler.model import CameraDemand
from cluster.scheduler.prior import (
    DEFAULT_SOURCE_FPS,
    DEFAULT_SOURCE_HEIGHT,
    DEFAULT_SOURCE_WIDTH,
    MAX_PRIOR_COST,
    MIN_CAMERA_COST,
    SourceInfo,
    cost_breakdown,
    estimate_cost,
    shape_of,
)

CLIP = SourceInfo(width=768, height=432, fps=12.5)  # shared/media/car-detection.mp4


def camera(camera_id: str = "cam-1", **analysis: object) -> CameraConfig:
    return CameraConfig(id=camera_id, source={"url": "rtsp://cam.example/stream"}, analysis=analysis)


def with_detector(input_size: int = 320, max_fps: float = 2.0, **analysis: object) -> CameraConfig:
    return camera(detector={"model": "/models/yolo.cfg", "input_size": input_size, "max_fps": max_fps}, **analysis)


# --- prior -----------------------------------------------------------------------------------------


def test_decode_cost_matches_the_measured_reference_clip():
    decode = cost_breakdown(camera(), CLIP).decode
    assert 0.05 <= decode <= 0.08, f"768x432 H.264 at 12.5 fps was measured at 5-8% of a core, model says {decode}"


def test_decoding_without_the_loop_filter_is_costed_at_its_measured_share():
    full = cost_breakdown(camera(), CLIP).decode
    shortcut = CameraConfig(
        id="cam-1", source={"url": "rtsp://cam.example/stream", "skip_loop_filter": "all"}, analysis={}
    )
    assert cost_breakdown(shortcut, CLIP).decode == pytest.approx(0.70 * full), "bench.decode_options: 1.43x"


def test_a_decode_shortcut_is_part_of_the_shape_and_its_absence_keeps_the_old_key():
    plain = camera()
    shortcut = CameraConfig(
        id="cam-1", source={"url": "rtsp://cam.example/stream", "skip_loop_filter": "all"}, analysis={}
    )
    assert shape_of(shortcut, CLIP) != shape_of(plain, CLIP), "a shortcut changes what a camera costs"
    assert "skip_loop_filter" not in shape_of(plain, CLIP).key, f"keys persisted before it: {shape_of(plain).key}"
    assert "skip_loop_filter=all" in shape_of(shortcut, CLIP).key


def test_motion_cost_matches_the_measured_reference():
    motion = cost_breakdown(camera(fps=5.0, motion={"width": 320}), CLIP).motion
    assert 0.01 <= motion <= 0.02, f"MOG2 on 320 px at 5 fps was measured at 1-2% of a core, model says {motion}"


def test_detector_cost_is_20ms_per_run_at_320():
    detector = cost_breakdown(with_detector(input_size=320, max_fps=2.0), CLIP).detector
    assert detector == pytest.approx(0.040), f"2 runs/s of ~20 ms should cost 0.04 cores, got {detector}"


def test_detector_cost_grows_with_the_square_of_input_size():
    small = cost_breakdown(with_detector(input_size=320), CLIP).detector
    large = cost_breakdown(with_detector(input_size=640), CLIP).detector
    assert large == pytest.approx(4 * small), f"640 input should cost 4x the 320 input: {small} vs {large}"


def test_detector_runs_no_faster_than_the_analysis():
    # The config clamps max_fps to the analysis fps; the source fps clamps both.
    slow_source = SourceInfo(width=768, height=432, fps=1.0)
    detector = cost_breakdown(with_detector(max_fps=5.0, fps=5.0), slow_source).detector
    assert detector == pytest.approx(0.020), f"a 1 fps source allows one detector run per second, got {detector}"


def test_motion_only_camera_has_no_detector_cost():
    assert cost_breakdown(camera(), CLIP).detector == 0.0, "no detector configured, yet a detector cost"


def test_disabled_motion_costs_nothing():
    assert cost_breakdown(camera(motion={"enabled": False}), CLIP).motion == 0.0, "motion disabled, yet a cost"


def test_motion_width_is_capped_by_the_analysis_width():
    capped = cost_breakdown(camera(width=320, motion={"width": 640}), CLIP).motion
    plain = cost_breakdown(camera(width=320, motion={"width": 320}), CLIP).motion
    assert capped == pytest.approx(plain), "motion cannot run on a wider frame than the analysed one"


def test_unknown_source_uses_the_default_stream():
    decode = cost_breakdown(camera(), None).decode
    expected = cost_breakdown(
        camera(), SourceInfo(DEFAULT_SOURCE_WIDTH, DEFAULT_SOURCE_HEIGHT, DEFAULT_SOURCE_FPS)
    ).decode
    assert decode == pytest.approx(expected), "an unknown source should be costed as the default stream"


def test_width_alone_assumes_16_by_9():
    only_width = cost_breakdown(camera(), SourceInfo(width=1920, fps=25.0)).decode
    full = cost_breakdown(camera(), SourceInfo(width=1920, height=1080, fps=25.0)).decode
    assert only_width == pytest.approx(full), "a known width with unknown height should assume 16:9"


def test_higher_settings_never_cost_less():
    base = estimate_cost(camera(), CLIP)
    assert estimate_cost(with_detector(), CLIP) > base, "adding a detector must raise the cost"
    assert estimate_cost(camera(fps=10.0), CLIP) > base, "analysing more frames must raise the cost"
    assert estimate_cost(camera(), SourceInfo(1920, 1080, 25.0)) > base, "a bigger stream must cost more"


def test_prior_is_clamped_to_floor_and_ceiling():
    tiny = estimate_cost(camera(fps=1.0, motion={"enabled": False}), SourceInfo(64, 36, 1.0))
    huge = estimate_cost(with_detector(input_size=1920, max_fps=30.0, fps=30.0), SourceInfo(3840, 2160, 60.0))
    assert tiny == MIN_CAMERA_COST, f"a near-free camera should cost the floor, got {tiny}"
    assert huge == MAX_PRIOR_COST, f"a guess above the ceiling should be clamped to it, got {huge}"


# --- CostModel ------------------------------------------------------------------------------------


def model_with(prior: float, camera_id: str = "cam-1", **kwargs: float) -> CostModel:
    model = CostModel(**kwargs)
    model.set_prior(camera_id, prior)
    return model


def test_update_config_sets_the_prior():
    model = CostModel()
    cost = model.update_config(camera("cam-7"), CLIP)
    assert cost == pytest.approx(estimate_cost(camera("cam-7"), CLIP)), "a fresh estimate is the prior"
    assert model.cost("cam-7") == cost, "cost() should return what update_config reported"


def test_first_measurement_is_blended_with_the_prior():
    model = model_with(0.2)
    assert model.observe("cam-1", 0.4, now=100.0) == pytest.approx(0.3), "first sample weighs one half"


def test_later_measurements_are_weighted_by_elapsed_time():
    model = model_with(0.2)
    model.observe("cam-1", 0.2, now=0.0)
    cost = model.observe("cam-1", 1.2, now=SMOOTHING_TIME_CONSTANT_S)
    expected = 0.2 + (1 - math.exp(-1)) * 1.0
    assert cost == pytest.approx(expected), f"a sample one time constant later weighs 1-1/e: {cost} vs {expected}"


def test_sustained_measurements_converge():
    model = model_with(0.2)
    for i in range(200):
        model.observe("cam-1", 0.7, now=10.0 * i)
    assert model.cost("cam-1") == pytest.approx(0.7, abs=1e-3), "a steady measurement should win in the end"


def test_sample_not_newer_than_the_last_is_ignored():
    model = model_with(0.2)
    model.observe("cam-1", 0.4, now=50.0)
    before = model.cost("cam-1")
    assert model.observe("cam-1", 5.0, now=50.0) == before, "a duplicate timestamp must not count twice"
    assert model.observe("cam-1", 5.0, now=40.0) == before, "a sample from the past must be ignored"


def test_estimate_never_goes_below_the_floor():
    model = model_with(0.1, floor=0.05)
    for i in range(50):
        model.observe("cam-1", 0.0, now=100.0 * i)
    assert model.cost("cam-1") == 0.05, f"an idle camera should still cost the floor, got {model.cost('cam-1')}"


def test_changed_prior_shifts_the_learned_estimate():
    model = model_with(0.2)
    model.observe("cam-1", 0.4, now=0.0)  # estimate 0.3: measurements say +0.1
    assert model.set_prior("cam-1", 0.5) == pytest.approx(0.6), "the learned +0.1 should carry over"


def test_negative_measurement_is_rejected():
    model = model_with(0.2)
    with pytest.raises(ValueError, match="cam-1"):
        model.observe("cam-1", -0.1, now=1.0)


def test_measurement_of_an_unknown_camera_names_it():
    with pytest.raises(KeyError, match="ghost"):
        CostModel().observe("ghost", 0.1, now=1.0)


def test_forget_and_demand():
    model = CostModel()
    model.set_prior("b", 0.3)
    model.set_prior("a", 0.2)
    model.set_prior("c", 0.01)
    model.forget("b")
    assert model.demand() == [CameraDemand("a", 0.2), CameraDemand("c", MIN_CAMERA_COST)], (
        "demand should list the remaining cameras by id, floored"
    )


# --- shapes, sources and calibration (issue 9) -----------------------------------------------------


def file_camera(camera_id: str, url: str = "/clips/street.mp4", **analysis: object) -> CameraConfig:
    return CameraConfig(id=camera_id, source={"url": url, "loop": True}, analysis=analysis)


def measured(model: CostModel, camera_id: str, cores: float, kind: str = "2-cpu", samples: int = 40) -> None:
    for i in range(samples):
        model.observe(camera_id, cores, now=10.0 * (i + 1), node_kind=kind)


def test_learnt_costs_carry_over_to_cameras_of_the_same_shape_before_they_run():
    model = CostModel()
    model.update_config(file_camera("a"), CLIP)
    measured(model, "a", 0.04)
    model.refresh(["2-cpu"])
    cost = model.update_config(file_camera("b"), CLIP)
    assert cost == pytest.approx(model.cost("a")), f"b costs what a of its shape measures, not its prior: {cost}"
    assert model.basis("b") is CostBasis.SHAPE, f"and says so: {model.basis('b')}"
    other = model.update_config(file_camera("c", detector={"model": "/m/yolo.cfg", "max_fps": 2.0}), CLIP)
    assert model.basis("c") is CostBasis.PRIOR and other > cost, "a camera of another shape keeps its own prior"


def test_a_shape_costs_the_mean_of_its_measured_cameras_and_keeps_it_when_they_go():
    model = CostModel()
    for cid, cores in (("a", 0.03), ("b", 0.05)):
        model.update_config(file_camera(cid), CLIP)
        measured(model, cid, cores)
    model.refresh()
    model.forget("a")
    model.forget("b")
    model.refresh()
    assert model.update_config(file_camera("c"), CLIP) == pytest.approx(0.04, abs=1e-3), "the mean of a and b"


def test_an_unknown_source_takes_the_dearest_measured_camera_with_the_same_settings():
    model = CostModel()
    for cid, cores in (("small", 0.03), ("big", 0.09)):
        config = file_camera(cid, url=f"rtsp://cams.example/{cid}")
        model.update_config(config, SourceInfo(640 if cid == "small" else 1920, 360, 15.0))
        measured(model, cid, cores)
    model.refresh()
    # A network camera that has not run: its size is unknown.
    cost = model.update_config(file_camera("new", url="rtsp://cams.example/new"))
    assert cost == pytest.approx(0.09, abs=1e-3), f"the conservative side: its stream may be the big one ({cost})"
    assert model.basis("new") is CostBasis.SETTINGS


def test_learning_the_source_size_changes_the_prior_but_not_what_the_camera_measured():
    model = CostModel()
    unknown = model.update_config(camera("a"))
    model.observe("a", 0.05, now=1.0)
    learnt = model.cost("a")
    assert model.learn_source("rtsp://cam.example/stream", CLIP), "news"
    assert model.cost("a") == pytest.approx(learnt), "its measurements were of this stream all along"
    assert model.update_config(camera("b")) < unknown, "a camera of that URL now gets the prior of the real stream"
    assert not model.learn_source("rtsp://cam.example/stream", CLIP), "the same again is no news"


def test_a_calibration_changes_the_prior_of_unmeasured_shapes():
    model = CostModel()
    model.update_config(file_camera("a"), CLIP)
    raw = cost_breakdown(file_camera("a"), CLIP).raw_total
    measured(model, "a", raw / 2, samples=200)
    model.refresh(["2-cpu"])
    assert model.calibration("2-cpu") == pytest.approx(0.5, abs=0.01), "measured / prior on that node kind"
    other = file_camera("b", fps=10.0)
    assert model.update_config(other, CLIP) == pytest.approx(cost_breakdown(other, CLIP).raw_total * 0.5, rel=0.02), (
        "an unmeasured shape's prior is scaled by the calibration of the node kinds"
    )
    model.refresh(["8-cpu"])
    assert model.cost("b") == pytest.approx(estimate_cost(other, CLIP)), "no calibration for the kinds alive: x1"


def test_a_stored_calibration_and_shape_costs_survive_in_what_is_persisted():
    model = CostModel()
    model.update_config(file_camera("a"), CLIP)
    measured(model, "a", 0.04)
    model.calibrate("fast", 0.5)
    model.refresh(["fast"])
    restored = CostModel()
    restored.restore_learnt(model.learnt())
    restored.refresh(["fast"])
    assert restored.update_config(file_camera("b")) == pytest.approx(0.04, abs=1e-3), (
        "the shape cost, and the source size of its URL, come back"
    )
    assert restored.calibration("fast") == 0.5


def test_changed_settings_are_re_estimated_at_once_from_their_shape_when_known():
    model = CostModel()
    with_det = {"detector": {"model": "/m/yolo.cfg", "max_fps": 2.0}}
    model.update_config(file_camera("ref", **with_det), CLIP)
    measured(model, "ref", 0.08)
    model.update_config(file_camera("a"), CLIP)
    measured(model, "a", 0.03)
    model.refresh()
    assert model.update_config(file_camera("a", **with_det), CLIP) == pytest.approx(model.cost("ref")), (
        "a detector added: costed at once like the measured cameras with that detector"
    )


def test_a_rollback_restores_the_measurements_a_rejected_change_discarded():
    model = CostModel()
    model.update_config(file_camera("ref", fps=10.0), CLIP)
    measured(model, "ref", 0.2)
    model.update_config(file_camera("a"), CLIP)
    measured(model, "a", 0.03)
    model.refresh()
    checkpoint, before = model.checkpoint("a"), model.cost("a")
    model.update_config(file_camera("a", fps=10.0), CLIP)
    model.rollback("a", checkpoint)
    assert model.cost("a") == before and model.basis("a") is CostBasis.MEASURED, "as if nothing happened"


def test_shapes_tell_apart_what_changes_the_cost_and_nothing_else():
    plain = shape_of(file_camera("a"), CLIP)
    assert shape_of(file_camera("b", motion={"var_threshold": 50.0}), CLIP) == plain, "a threshold costs nothing"
    assert shape_of(file_camera("c", fps=10.0), CLIP) != plain, "the analysis rate does"
    assert shape_of(file_camera("d"), SourceInfo(1920, 1080, 25.0)) != plain, "and the stream's size"
    assert shape_of(file_camera("e"), None).source is None, "an unknown source has no size in its shape"
