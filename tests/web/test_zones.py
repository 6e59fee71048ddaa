"""Zones, lines and privacy masks over HTTP: read for drawing (masks for operators only),
saved by operators through UpdateCamera's path (validated as the gateway does, other rule
settings kept), CSRF-protected, scoped, bad input named.

Cameras (the in-memory control plane): cam-a and cam-c in ward-1, cam-b in ward-2.
"""

from __future__ import annotations

from .conftest import token

ZONE = {"name": "cong-truoc", "polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]}
LINE = {"name": "vach-ngang", "start": [0.0, 0.6], "end": [1.0, 0.6]}
MASK = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.2], [0.0, 0.2]]


def logged_in(console, who: str = "operator"):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def config_of(console, camera_id: str):
    return console.run(console.control.get_camera(camera_id)).config


def test_an_operator_saves_zones_lines_and_masks_and_the_camera_gets_them(console) -> None:
    reply = logged_in(console).post("/api/cameras/cam-a/zones", {"zones": [ZONE], "lines": [LINE], "masks": [MASK]})
    assert reply.status == 200, reply.body
    config = config_of(console, "cam-a")
    assert [(z.name, [list(p) for p in z.polygon]) for z in config.rules.zones] == [(ZONE["name"], ZONE["polygon"])]
    assert [(ln.name, list(ln.start), list(ln.end)) for ln in config.rules.lines] == [
        ("vach-ngang", [0.0, 0.6], [1.0, 0.6])
    ]
    assert [[list(p) for p in m] for m in config.privacy.masks] == [MASK], "applied through update_camera"
    assert reply.json["zones"][0]["name"] == "cong-truoc" and reply.json["masks"] == [MASK], reply.json
    [line] = console.records.of("call", "WebUpdateZones")
    assert (line["who"], line["cameras"], line["status"]) == ("operator", ["cam-a"], "OK"), line


def test_a_save_keeps_the_other_settings_of_a_rule_of_the_same_name(console) -> None:
    camera = console.control.cameras["cam-a"]
    rules = {"zones": [{**ZONE, "loitering_s": 30.0, "filters": {"min_confidence": 0.4}}]}
    config = type(camera.config).model_validate({**camera.config.model_dump(mode="json"), "rules": rules})
    console.run(console.control.update_camera(config))
    moved = {**ZONE, "polygon": [[0.2, 0.2], [0.8, 0.2], [0.5, 0.9]]}
    assert logged_in(console).post("/api/cameras/cam-a/zones", {"zones": [moved]}).status == 200
    [zone] = config_of(console, "cam-a").rules.zones
    assert [list(p) for p in zone.polygon] == moved["polygon"], "the new shape"
    assert zone.loitering_s == 30.0 and zone.filters.min_confidence == 0.4, "its loitering and filters kept"


def test_zones_are_drawn_for_viewers_without_the_masks(console) -> None:
    logged_in(console).post("/api/cameras/cam-a/zones", {"zones": [ZONE], "masks": [MASK]})
    viewer = logged_in(console, "viewer-w1").get("/api/cameras/cam-a/zones")
    assert viewer.status == 200 and viewer.json["zones"][0]["polygon"] == ZONE["polygon"], viewer.body
    assert viewer.json["masks"] is None, "a viewer is not told where the privacy masks are"
    operator = logged_in(console).get("/api/cameras/cam-a/zones").json
    assert operator["masks"] == [MASK], "operators see them outlined"


def test_a_viewer_may_not_save_and_out_of_scope_is_403(console) -> None:
    viewer = logged_in(console, "viewer-w1")
    denied = viewer.post("/api/cameras/cam-a/zones", {"zones": [ZONE]})
    assert (denied.status, denied.error_code) == (403, "permission_denied"), denied.body
    assert config_of(console, "cam-a").rules.zones == [], "nothing saved"
    assert viewer.get("/api/cameras/cam-b/zones").status == 403, "another group's camera"
    assert viewer.get("/api/cameras/cam-zzz/zones").status == 403, "an unknown one alike"
    assert logged_in(console).post("/api/cameras/cam-zzz/zones", {"zones": []}).status == 404


def test_saving_needs_the_csrf_token(console) -> None:
    browser = logged_in(console)
    reply = browser.post("/api/cameras/cam-a/zones", {"zones": [ZONE]}, csrf=False)
    assert (reply.status, reply.error_code) == (403, "csrf_failed"), reply.body
    forged = browser.post("/api/cameras/cam-a/zones", {"zones": [ZONE]}, headers={"X-CSRF-Token": "x" * 43})
    assert forged.status == 403, forged.body
    assert config_of(console, "cam-a").rules.zones == [], "nothing saved"


def test_bad_shapes_are_400_naming_the_field(console) -> None:
    browser = logged_in(console)
    cases = [
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}, "rules.zones.0.polygon"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [2, 0], [1, 1]]}]}, "rules.zones.0.polygon"),
        ({"zones": [{"name": "z", "polygon": ZONE["polygon"], "colour": "red"}]}, "colour"),
        ({"lines": [{"name": "l", "start": [0.5, 0.5], "end": [0.5, 0.5]}]}, "rules.lines.0"),
        ({"masks": [[[0, 0], [1, 1], [1, 0], [0, 1]]]}, "privacy.masks"),
        ({"zones": "all"}, "zones"),
        ({"shapes": []}, "shapes"),
        ({"zones": [ZONE, ZONE]}, "rules"),
    ]
    for body, field in cases:
        reply = browser.post("/api/cameras/cam-a/zones", body)
        assert (reply.status, reply.error_code) == (400, "bad_request"), f"{body}: {reply.status} {reply.body!r}"
        assert field in reply.json["error"]["message"], f"{body}: names {field!r}: {reply.json}"
    too_big = browser.post("/api/cameras/cam-a/zones", {"zones": [], "pad": "x" * console.config.web.max_request_bytes})
    assert too_big.status == 413, too_big.status
    assert config_of(console, "cam-a").rules.zones == [], "nothing saved"
