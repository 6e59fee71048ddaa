"""The pipeline's event side: rules as the last stages, events in the result, and what a
live update of the rules or of the tamper settings keeps."""

from __future__ import annotations

import numpy as np
import pytest

from cluster.config import AnalysisConfig, CameraConfig, MotionConfig
from cluster.domain import Box, Detection, EventType, Frame
from cluster.video.pipeline import AnalysisPipeline
from cluster.video.settings import EventSettings

IMAGE = np.full((90, 160, 3), 100, np.uint8)
ZONE = [[0.0, 0.0], [0.6, 0.0], [0.6, 1.0], [0.0, 1.0]]


class WalkingDetector:
    """One car whose box sits where the test puts it."""

    class_names = ("car", "person")

    def __init__(self) -> None:
        self.x = 0.1

    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        return (Detection(0, "car", 0.9, Box(self.x, 0.3, 0.2, 0.2)),)

    def describe(self) -> str:
        return "walking"


def camera(**fields) -> CameraConfig:
    rules = {"zones": [{"name": "left", "polygon": ZONE, "inertia": 1, "loitering_s": 1.0}]}
    return CameraConfig.model_validate(
        {"id": "cam", "source": {"url": "/x.mp4"}, "rules": rules, "health": {"tamper": {"enabled": False}}} | fields
    )


ANALYSIS = AnalysisConfig(fps=5.0, motion=MotionConfig(enabled=False))


def pipeline(config: CameraConfig, detector: WalkingDetector, previous: AnalysisPipeline | None = None):
    return AnalysisPipeline(config.id, ANALYSIS, detector=detector, events=EventSettings.of(config), previous=previous)


def run(pipe: AnalysisPipeline, start: int, count: int) -> list:
    events = []
    for index in range(start, start + count):
        events.extend(pipe.process(Frame(index, 1000.0 + index, IMAGE, pts=index * 0.2)).events)
    return events


def test_rules_run_last_and_their_events_come_in_the_result() -> None:
    pipe = pipeline(camera(), WalkingDetector())
    assert [stage.name for stage in pipe.stages][-2:] == ["rules", "tamper"], "the pipeline's last stages"
    events = run(pipe, 0, 3)
    assert [e.type for e in events] == [EventType.ZONE_ENTER], f"{events}"


def test_an_update_that_keeps_a_rule_keeps_its_state() -> None:
    detector = WalkingDetector()
    first = pipeline(camera(), detector)
    run(first, 0, 8)  # in the zone from pts 0: loitering started at 1.0
    changed = camera(name="renamed", output={"thumbnail_width": 160})
    second = pipeline(changed, detector, previous=first)
    events = run(second, 8, 3)
    assert not [e for e in events if e.type is EventType.ZONE_ENTER], "the car is still known to be inside"
    assert all(e.type is not EventType.LOITERING or e.revision > 0 for e in events), "the same loitering goes on"


def test_an_update_that_changes_a_rule_ends_its_open_events() -> None:
    detector = WalkingDetector()
    first = pipeline(camera(), detector)
    opened = [e for e in run(first, 0, 8) if e.type is EventType.LOITERING]
    assert opened and opened[0].ongoing, "loitering is open"
    wider = camera(rules={"zones": [{"name": "left", "polygon": ZONE, "inertia": 1, "loitering_s": 5.0}]})
    second = pipeline(wider, detector, previous=first)
    events = run(second, 8, 2)
    ended = [e for e in events if e.event_id == opened[0].event_id]
    assert ended and not ended[-1].ongoing, f"the changed rule's loitering is ended: {events}"
    assert [e.type for e in events if e.event_id != opened[0].event_id] == [EventType.ZONE_ENTER], (
        "the changed rule starts afresh"
    )


def test_removing_every_rule_ends_what_was_open() -> None:
    detector = WalkingDetector()
    first = pipeline(camera(), detector)
    opened = [e for e in run(first, 0, 8) if e.type is EventType.LOITERING]
    second = pipeline(camera(rules={}), detector, previous=first)
    events = run(second, 8, 1)
    assert [(e.event_id, e.ongoing) for e in events] == [(opened[0].event_id, False)], f"{events}"


def test_finish_ends_every_open_event() -> None:
    pipe = pipeline(camera(), WalkingDetector())
    run(pipe, 0, 8)
    final = pipe.finish()
    assert {(e.type, e.ongoing) for e in final} == {(EventType.LOITERING, False), (EventType.ZONE_LEAVE, False)}


def test_rules_on_an_unknown_class_of_the_detector_are_refused() -> None:
    # The names file of this detector is not on this machine, so the config cannot check the class; the
    # pipeline checks it against the detector it runs.
    config = camera(
        analysis={"detector": {"model": "/elsewhere/model.cfg"}},
        rules={"zones": [{"name": "z", "polygon": ZONE, "filters": {"classes": ["bus"]}}]},
    )
    with pytest.raises(ValueError, match=r"rules\.zones\.0\.filters\.classes: unknown class 'bus'"):
        pipeline(config, WalkingDetector())


def test_rules_without_a_tracker_are_refused() -> None:
    analysis = AnalysisConfig(fps=5.0, motion=MotionConfig(enabled=False), tracker={"enabled": False})
    with pytest.raises(ValueError, match=r"analysis\.tracker"):
        AnalysisPipeline("cam", analysis, detector=WalkingDetector(), events=EventSettings.of(camera()))


def test_without_event_settings_there_are_no_event_stages() -> None:
    pipe = AnalysisPipeline("cam", ANALYSIS, detector=WalkingDetector())
    assert "rules" not in [stage.name for stage in pipe.stages] and pipe.finish() == ()


def test_tamper_incidents_continue_over_an_update_that_keeps_the_tamper_settings() -> None:
    covered = camera(rules={}, health={"tamper": {"min_duration_s": 0.0, "clear_s": 0.0}})
    detector = WalkingDetector()
    first = pipeline(covered, detector)
    opened = [e for e in run(first, 0, 3) if e.type is EventType.TAMPER_UNIFORM]  # the test image is one grey
    assert [e.revision for e in opened] == [0], f"the uniform view is an incident: {opened}"

    same = pipeline(covered.model_copy(update={"name": "renamed"}), detector, previous=first)
    assert run(same, 3, 10) == [], "the incident goes on: no new start, no end"

    retuned = camera(rules={}, health={"tamper": {"min_duration_s": 0.0, "clear_s": 0.0, "fps": 2.0}})
    third = pipeline(retuned, detector, previous=same)
    ended, *reopened = run(third, 13, 1)
    assert (ended.event_id, ended.ongoing) == (opened[0].event_id, False), (
        f"new tamper settings learn afresh and end the open incident: {ended}"
    )
    assert [(e.type, e.revision) for e in reopened] == [(EventType.TAMPER_UNIFORM, 0)], (
        "the view is still uniform: the new detector opens its own incident"
    )
