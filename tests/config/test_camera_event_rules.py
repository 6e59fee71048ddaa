"""The event sections of a camera (rules, privacy, health) and its time zone: defaults,
and bad input named by its key."""

from __future__ import annotations

import pytest

from cluster.config import ConfigError, parse_config

SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


def camera(**fields) -> dict:
    return {"cameras": [{"id": "cam-1", "source": {"url": "rtsp://10.0.0.5/stream1"}} | fields]}


def zone(**fields) -> dict:
    return {"zones": [{"name": "yard", "polygon": SQUARE} | fields]}


def test_defaults() -> None:
    cam = parse_config(camera()).cameras[0]
    assert cam.timezone == "Asia/Ho_Chi_Minh" and cam.rules.empty and not cam.privacy.masks
    assert cam.health.tamper.enabled and cam.health.stream_lost_after_s == 10.0
    rule = parse_config(camera(rules=zone())).cameras[0].rules.zones[0]
    assert (rule.anchor, rule.inertia, rule.severity, rule.loitering_s) == ("bottom-center", 3, "info", None)


@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            {"rules": zone(polygon=[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]])},
            "cameras.0.rules.zones.0.polygon: the polygon intersects itself",
        ),
        (
            {"rules": zone(polygon=[[0.1, 0.1], [1.2, 0.1], [0.5, 0.9]])},
            "cameras.0.rules.zones.0.polygon: polygon point",
        ),
        (
            {"rules": zone(polygon=[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]])},
            "rules.zones.0.polygon: the polygon has no area",
        ),
        (
            {"rules": {"lines": [{"name": "l", "start": [0.5, 0.5], "end": [0.5, 0.5]}]}},
            "cameras.0.rules.lines.0: the line from (0.5, 0.5) to (0.5, 0.5) has length 0",
        ),
        ({"rules": {"lines": [{"name": "l", "start": [0.5, 1.5], "end": [0.5, 0.5]}]}}, "rules.lines.0.start: point"),
        (
            {"rules": zone() | {"lines": [{"name": "yard", "start": [0, 0.5], "end": [1, 0.5]}]}},
            "cameras.0.rules.lines.0.name: duplicate rule name 'yard'",
        ),
        ({"rules": zone(name="tamper")}, "cameras.0.rules.zones.0.name: rule name 'tamper' is reserved"),
        (
            {"rules": zone(filters={"classes": ["car"]})},
            "cameras.0.rules.zones.0.filters.classes.0: unknown class 'car'",
        ),
        ({"rules": zone(filters={"classes": []})}, "cameras.0.rules.zones.0.filters.classes"),
        (
            {"rules": zone(filters={"windows": [{"start": "22:00", "end": "22:00"}]})},
            "cameras.0.rules.zones.0.filters.windows.0: start and end are both 22:00",
        ),
        (
            {"rules": zone(filters={"windows": [{"start": "25:00", "end": "06:00"}]})},
            "cameras.0.rules.zones.0.filters.windows.0.start",
        ),
        ({"rules": zone(filters={"windows": [{"start": "22:00", "end": "06:00", "days": ["fri", "fri"]}]})}, "twice"),
        ({"rules": zone(filters={"min_area": 0.5, "max_area": 0.1})}, "min_area (0.5) is above max_area (0.1)"),
        ({"rules": zone(anchor="feet")}, "cameras.0.rules.zones.0.anchor"),
        ({"rules": zone(inertia=0)}, "cameras.0.rules.zones.0.inertia"),
        (
            {"rules": zone(), "analysis": {"tracker": {"enabled": False}}},
            "cameras.0.rules: rules follow tracked objects",
        ),
        (
            {"rules": zone(), "analysis": {"motion": {"report_regions": False}}},
            "cameras.0.rules: rules need detections",
        ),
        ({"privacy": {"masks": [[[0, 0], [1, 1], [1, 0], [0, 1]]]}}, "cameras.0.privacy.masks: the polygon intersects"),
        ({"privacy": {"mode": "blur"}}, "cameras.0.privacy.mode"),
        ({"timezone": "Mars/Olympus"}, "cameras.0.timezone: unknown time zone 'Mars/Olympus'"),
        ({"health": {"tamper": {"defocus_ratio": 1.5}}}, "cameras.0.health.tamper.defocus_ratio"),
        ({"output": {"event_ring_size": 1}}, "cameras.0.output.event_ring_size"),
    ],
)
def test_bad_values_are_named(fields: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(camera(**fields))
    assert expected in str(err.value), f"error should mention {expected!r}: {err.value}"


def test_rule_classes_are_checked_against_the_detectors_names_file(models) -> None:
    detector = {"model": str(models / "yolo-fastest-1.1.cfg")}
    ok = parse_config(camera(analysis={"detector": detector}, rules=zone(filters={"classes": ["motorbike", "person"]})))
    assert ok.cameras[0].rules.zones[0].filters.classes == ["motorbike", "person"]
    with pytest.raises(ConfigError) as err:
        parse_config(camera(analysis={"detector": detector}, rules=zone(filters={"classes": ["motorbik"]})))
    assert "rules.zones.0.filters.classes.0: unknown class 'motorbik'" in str(err.value)
    assert "did you mean 'motorbike'?" in str(err.value), f"a hint at the likely class: {err.value}"


def test_rule_classes_must_be_among_the_classes_a_detector_keeps(models) -> None:
    detector = {"model": str(models / "yolo-fastest-1.1.cfg"), "classes": ["car"]}
    with pytest.raises(ConfigError, match="unknown class 'person'"):
        parse_config(camera(analysis={"detector": detector}, rules=zone(filters={"classes": ["person"]})))


def test_a_names_file_on_another_machine_is_checked_when_the_camera_starts() -> None:
    detector = {"model": "/models/elsewhere/yolo.cfg"}
    config = parse_config(camera(analysis={"detector": detector}, rules=zone(filters={"classes": ["anything"]})))
    assert config.cameras[0].rules.zones[0].filters.classes == ["anything"], "accepted here, checked by the pipeline"


def test_a_window_over_midnight_and_days_are_accepted() -> None:
    windows = [{"start": "22:00", "end": "06:00", "days": ["fri", "sat"]}]
    window = parse_config(camera(rules=zone(filters={"windows": windows}))).cameras[0].rules.zones[0].filters.windows[0]
    assert (window.start.hour, window.end.hour, window.days) == (22, 6, ["fri", "sat"])
