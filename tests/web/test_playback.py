"""Recorded footage over HTTP: the timeline (ranges and gaps with their reasons), masked
windows rendered once and shared, the clip served with HTTP Range, scoping, the access
log, bad input and a window straddling a gap.

Real footage: the shared car clip recorded by the real recorder as cam-a (ward-1) with
its stream down between two passes (tests/web/recorded.py); cam-a has a privacy mask
over its top-left quarter. cam-b (ward-2) records into the same root and has nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import av
import pytest

from cluster.config.recording import RecordingConfig, RecordingStorageConfig
from cluster.recordings import RecordingCatalog
from cluster.web.errors import web_error_for
from cluster.web.playback import PlaybackBusy
from tests.fixtures.waiting import wait_until

from .conftest import token
from .recorded import FIRST_END, MASK, SECOND_START, T0, record_with_gap, recorded_camera

WINDOW_S = 5.0
RENDER_TIMEOUT_S = 120.0  # a window is encoded on the first ask: well under a second alone, more under load


@pytest.fixture(scope="module")
def footage(tmp_path_factory, media: Path) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    record_with_gap(root, media / "car-detection.mp4")
    return root


@pytest.fixture
def player(make_console, footage: Path):
    cameras = [
        recorded_camera("cam-a", ("ward-1",), footage, masks=[MASK]),
        recorded_camera("cam-b", ("ward-2",), footage),
        recorded_camera("cam-c", ("ward-1",), footage),
    ]
    web = {"playback": {"window_s": WINDOW_S, "cache_windows": 2}, "status_refresh_s": 0.2}
    return make_console(cameras, web=web)


def logged_in(console, who: str = "viewer-a"):
    browser = console.browser()
    assert browser.login(token(who)).status == 200
    return browser


def window_url(viewer, at: float, camera: str = "cam-a") -> str:
    reply = viewer.get(f"/api/cameras/{camera}/playback?at={at}", timeout=RENDER_TIMEOUT_S)
    assert reply.status == 200, reply.body
    return reply.json["url"]


def decoded_frames(data: bytes, tmp_path: Path) -> list[av.VideoFrame]:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


# ------------------------------------------------------------------ timeline


def test_the_timeline_has_the_recorded_ranges_and_the_gap_with_its_reason(player) -> None:
    reply = logged_in(player).get(f"/api/cameras/cam-a/recordings?from={T0 - 60}&to={T0 + 60}")
    assert reply.status == 200, reply.body
    ranges = [(r["start"], r["end"]) for r in reply.json["ranges"]]
    assert len(ranges) == 2 and ranges[0][0] == T0 and ranges[1][0] == SECOND_START, ranges
    [gap] = reply.json["gaps"]
    assert gap["start"] == pytest.approx(FIRST_END, abs=0.2) and gap["end"] == SECOND_START, gap
    assert gap["reason"].startswith("camera stream down"), gap
    assert reply.json["window_s"] == WINDOW_S, reply.json


def test_the_timeline_defaults_to_the_configured_span_before_now(player) -> None:
    player.clock.now = T0 + 100
    reply = logged_in(player).get("/api/cameras/cam-a/recordings")
    assert reply.status == 200, reply.body
    assert (reply.json["from"], reply.json["to"]) == (T0 + 100 - 3600, T0 + 100), reply.json
    assert len(reply.json["ranges"]) == 2, "the last hour holds both ranges"


def test_a_viewer_gets_403_for_a_camera_out_of_scope_and_for_an_unknown_one(player) -> None:
    viewer = logged_in(player, "viewer-a")
    paths = ("/api/cameras/cam-b/recordings", "/api/cameras/nope/recordings", f"/api/cameras/cam-b/playback?at={T0}")
    for path in paths:
        reply = viewer.get(path)
        assert (reply.status, reply.error_code) == (403, "permission_denied"), (path, reply.body)


def test_an_operator_gets_404_for_an_unknown_camera_and_no_session_gets_401(player) -> None:
    reply = logged_in(player, "operator").get(f"/api/cameras/nope/playback?at={T0}", timeout=RENDER_TIMEOUT_S)
    assert (reply.status, reply.error_code) == (404, "not_found"), reply.body
    anonymous = player.browser()
    assert anonymous.get("/api/cameras/cam-a/recordings").status == 401
    assert anonymous.get(f"/api/cameras/cam-a/playback?at={T0}", timeout=RENDER_TIMEOUT_S).status == 401


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/cameras/cam-a/playback", "at: required"),
        ("/api/cameras/cam-a/playback?at=yesterday", "at: 'yesterday' is neither"),
        ("/api/cameras/cam-a/playback?at=2026-11-20T21:40", "at: '2026-11-20T21:40' has no UTC offset"),
        (f"/api/cameras/cam-a/playback?at={T0}&speed=2", "unknown query parameter 'speed'"),
        (f"/api/cameras/cam-a/recordings?from={T0}&to={T0 - 1}", "to: the range is empty or backwards"),
        (f"/api/cameras/cam-a/recordings?from={T0 - 8 * 86400}&to={T0}", "to: at most 7 days"),
        (f"/api/cameras/bad%20id/playback?at={T0}", "camera"),
    ],
)
def test_bad_input_is_400_naming_what_is_wrong(player, path: str, named: str) -> None:
    reply = logged_in(player, "operator").get(path)
    assert (reply.status, reply.error_code) == (400, "bad_request"), (path, reply.body)
    assert named in reply.json["error"]["message"], reply.json


# ------------------------------------------------------------------ windows


def test_a_window_is_a_masked_mp4_served_with_range_requests(player, tmp_path: Path) -> None:
    viewer = logged_in(player)
    reply = viewer.get(f"/api/cameras/cam-a/playback?at={T0 + 3}", timeout=RENDER_TIMEOUT_S)
    assert reply.status == 200, reply.body
    window = reply.json
    assert (window["from"], window["to"]) == (T0, T0 + WINDOW_S), "the window on the clock's grid holding `at`"
    assert window["frames"] > 50 and window["gaps"] == [], window

    whole = viewer.get(window["url"])
    assert whole.status == 200, whole.body[:200]
    assert whole.headers["Content-Type"] == "video/mp4" and whole.headers.get("Accept-Ranges") == "bytes", whole.headers
    assert len(whole.body) == window["bytes"], "the whole clip"

    part = viewer.get(window["url"], headers={"Range": "bytes=100-1099"})
    assert part.status == 206, part.headers
    assert part.headers["Content-Range"] == f"bytes 100-1099/{window['bytes']}", part.headers
    assert part.body == whole.body[100:1100], "the bytes asked for"
    tail = viewer.get(window["url"], headers={"Range": "bytes=-500"})
    assert (tail.status, tail.body) == (206, whole.body[-500:]), tail.headers
    beyond = viewer.get(window["url"], headers={"Range": f"bytes={window['bytes'] + 10}-"})
    assert beyond.status == 416, beyond.headers

    frames = decoded_frames(whole.body, tmp_path)
    assert frames[0].format.name == "yuv420p" and frames[0].width == 768, "H.264 in yuv420p: what browsers play"
    image = frames[len(frames) // 2].to_ndarray(format="bgr24")
    h, w = image.shape[:2]
    masked = image[: h // 2 - 4, : w // 2 - 4]
    assert masked.max() <= 24, f"the privacy mask is black in the served video (max {masked.max()})"
    assert image[h // 2 + 4 :, w // 2 + 4 :].mean() > 40, "the rest of the picture is there"


def test_every_window_handed_out_is_in_the_access_log(player) -> None:
    logged_in(player).get(f"/api/cameras/cam-a/playback?at={T0 + 1}", timeout=RENDER_TIMEOUT_S)
    [line] = player.records.of("call", "WebPlayback")
    assert (line["who"], line["cameras"], line["status"]) == ("viewer-a", ["cam-a"], "OK"), line
    assert (line["start_s"], line["end_s"]) == (T0, T0 + WINDOW_S), "from when to when"


def test_a_window_straddling_the_gap_plays_what_exists(player, tmp_path: Path) -> None:
    viewer = logged_in(player)
    reply = viewer.get(f"/api/cameras/cam-a/playback?at={SECOND_START - 1}", timeout=RENDER_TIMEOUT_S)
    assert reply.status == 200, reply.body
    window = reply.json
    assert window["from"] == T0 + 20 and window["gaps"][0]["reason"].startswith("camera stream down"), window
    assert window["recorded"] == [{"start": SECOND_START, "end": T0 + 25}], window
    frames = decoded_frames(viewer.get(window["url"]).body, tmp_path)
    first = float(frames[0].pts * frames[0].time_base)
    assert first == pytest.approx(SECOND_START - window["from"], abs=0.1), (
        "media time is wall time minus the window's start: the footage begins where the gap ends"
    )


def test_a_window_with_no_recording_is_404_saying_so(player) -> None:
    viewer = logged_in(player, "operator")
    reply = viewer.get(f"/api/cameras/cam-a/playback?at={T0 + 16}", timeout=RENDER_TIMEOUT_S)
    assert (reply.status, reply.error_code) == (404, "no_recording"), reply.body
    assert "no recording" in reply.json["error"]["message"], reply.json
    reply = viewer.get(f"/api/cameras/cam-b/playback?at={T0}", timeout=RENDER_TIMEOUT_S)
    assert (reply.status, reply.error_code) == (404, "no_recording"), reply.body
    statuses = [r["status"] for r in player.records.of("call", "WebPlayback")]
    assert statuses == ["NOT_FOUND", "NOT_FOUND"], statuses


def test_a_window_is_rendered_once_for_many_viewers_at_once(player) -> None:
    viewers = [logged_in(player, who) for who in ("viewer-a", "viewer-w1", "operator", "admin")]
    path = f"/api/cameras/cam-a/playback?at={T0 + 2}"
    with concurrent.futures.ThreadPoolExecutor(len(viewers)) as pool:
        replies = list(pool.map(lambda v: v.get(path, timeout=RENDER_TIMEOUT_S), viewers))
    assert [r.status for r in replies] == [200] * 4, [r.body for r in replies]
    assert len({r.json["url"] for r in replies}) == 1, "one window for all"
    assert player.web.services.playback.renders == 1, "re-encoded once, not once per viewer"
    viewers[0].get(path, timeout=RENDER_TIMEOUT_S)
    assert player.web.services.playback.renders == 1, "a second ask comes from the cache"


def test_a_clip_is_served_only_to_sessions_it_was_handed_to(player) -> None:
    url = window_url(logged_in(player, "viewer-a"), T0)
    other = logged_in(player, "admin")
    reply = other.get(url)
    assert (reply.status, reply.error_code) == (404, "not_found"), "a session that did not ask (and was not logged)"
    assert player.browser().get(url).status == 401, "no session"
    assert logged_in(player, "viewer-a").get("/api/playback/" + "x" * 24).status == 404


def test_the_cache_is_bounded_and_an_evicted_clip_is_gone(player) -> None:
    viewer = logged_in(player)
    urls = [window_url(viewer, T0 + k * WINDOW_S) for k in range(2)]
    third = viewer.get(f"/api/cameras/cam-a/playback?at={SECOND_START + 3}", timeout=RENDER_TIMEOUT_S)
    assert third.status == 200, third.body
    assert player.web.services.playback.cached == 2, "at most cache_windows kept"
    assert viewer.get(urls[0]).status == 404, "the oldest window left the cache"
    assert viewer.get(urls[1]).status == 200, "the newer ones stay"


def test_a_changed_privacy_mask_is_a_new_render_never_the_old_one(player, tmp_path: Path) -> None:
    viewer = logged_in(player, "operator")
    before = viewer.get(f"/api/cameras/cam-a/playback?at={T0}", timeout=RENDER_TIMEOUT_S).json["url"]
    new_mask = [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]
    assert viewer.post("/api/cameras/cam-a/zones", {"masks": [new_mask]}).status == 200
    after = viewer.get(f"/api/cameras/cam-a/playback?at={T0}", timeout=RENDER_TIMEOUT_S)
    assert after.status == 200 and after.json["url"] != before, "another window for another mask"
    image = decoded_frames(viewer.get(after.json["url"]).body, tmp_path)[10].to_ndarray(format="bgr24")
    h, w = image.shape[:2]
    assert image[h // 2 + 4 :, w // 2 + 4 :].max() <= 24, "the new mask is black"


def test_renders_beyond_the_running_and_waiting_ones_are_refused_with_retry_after(make_console, footage) -> None:
    console = make_console(
        [recorded_camera("cam-a", ("ward-1",), footage, masks=[MASK])],
        web={"playback": {"window_s": WINDOW_S, "max_concurrent_renders": 1, "max_waiting_renders": 0}},
    )
    windows = console.web.services.playback
    camera = console.run(console.control.get_camera("cam-a")).config

    async def two_windows_while_every_renderer_is_held():
        await windows._slots.acquire()  # every renderer busy: the first window stays in its render
        try:
            first = asyncio.ensure_future(windows.window(camera, footage / "cam-a", at=T0, viewer="s1"))
            while not windows._rendering:
                await asyncio.sleep(0.01)
            with pytest.raises(PlaybackBusy) as busy:
                await windows.window(camera, footage / "cam-a", at=T0 + WINDOW_S, viewer="s2")
            same = asyncio.ensure_future(windows.window(camera, footage / "cam-a", at=T0 + 1, viewer="s3"))
            await asyncio.sleep(0)
        finally:
            windows._slots.release()
        return busy.value, await first, await same

    busy, first, same = console.run(two_windows_while_every_renderer_is_held(), RENDER_TIMEOUT_S)
    answer = web_error_for(busy)
    assert (answer.status, answer.headers.get("Retry-After")) == (503, "3"), "503, and when to try again"
    assert first.clip_id == same.clip_id and first.viewers >= {"s1", "s3"}, "the same window is no new render"
    assert windows.renders == 1, "one render"

    viewer = logged_in(console, "operator")
    reply = viewer.get(f"/api/cameras/cam-a/playback?at={T0 + 2 * WINDOW_S}", timeout=RENDER_TIMEOUT_S)
    assert reply.status == 200, "free again once the render is done"


def test_a_camera_without_its_own_directory_plays_from_where_the_serve_catalog_says(make_console, footage) -> None:
    """`matthan serve`'s path: the gateway's catalog (recordings.group_directories) finds the footage."""
    storage = RecordingStorageConfig(directory=Path("elsewhere"), group_directories={"ward-1": footage})
    camera = recorded_camera("cam-a", ("ward-1",), footage).model_copy(
        update={"recording": RecordingConfig()}  # no directory of its own, as cameras added over the API
    )
    console = make_console(
        [camera], recordings=RecordingCatalog(storage, footage.parent), web={"playback": {"window_s": WINDOW_S}}
    )
    viewer = logged_in(console)
    timeline = viewer.get(f"/api/cameras/cam-a/recordings?from={T0}&to={T0 + 60}")
    assert timeline.status == 200 and len(timeline.json["ranges"]) == 2, timeline.body
    assert viewer.get(f"/api/cameras/cam-a/playback?at={T0}", timeout=RENDER_TIMEOUT_S).status == 200


def test_a_clip_is_refused_once_the_viewer_may_no_longer_see_its_camera(player) -> None:
    viewer = logged_in(player, "viewer-w1")
    url = window_url(viewer, T0)
    assert viewer.get(url).status == 200
    moved = player.run(player.control.get_camera("cam-a")).config.model_copy(update={"groups": ["ward-2"]})
    player.run(player.control.update_camera(moved))
    wait_until(lambda: viewer.get(url).status == 403, 30.0, "the clip refused after cam-a left ward-1")
