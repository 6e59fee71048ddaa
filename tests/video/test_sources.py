"""open_source: files, network streams, typed errors, FFmpeg options, file playback."""

from __future__ import annotations

import itertools
import os
import time

import pydantic
import pytest

from cluster.config.source import SourceConfig
from cluster.video import sources
from cluster.video.opening import open_source
from cluster.video.sources import SourceError, ffmpeg_capture_options
from tests.fixtures.streams import free_port


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def unvalidated(url: str, **fields: object) -> SourceConfig:
    """A SourceConfig that skipped validation, as a config built in code might."""
    return SourceConfig.model_construct(url=url, **fields)


def open_error(config: SourceConfig) -> SourceError:
    with pytest.raises(SourceError) as caught:
        open_source(config)
    return caught.value


# ---- files -------------------------------------------------------------------------


def test_file_opens_with_its_size_rate_and_frame_count(car_clip):
    source = open_source(SourceConfig(url=str(car_clip), realtime=False))
    try:
        assert source.size == (768, 432), f"size {source.size}"
        assert source.fps == pytest.approx(12.5), f"fps {source.fps}"
        assert source.expected_frames == 377, f"frame count {source.expected_frames}"
        assert source.grab(), "the first grab of a good file failed"
        image = source.retrieve()
        assert image is not None and image.shape == (432, 768, 3), "first frame is not a 768x432 BGR image"
    finally:
        source.release()


def test_file_url_form_opens_too(short_clip):
    source = open_source(SourceConfig(url=f"file://{short_clip}", realtime=False))
    try:
        assert source.grab(), "file:// URL did not give a frame"
    finally:
        source.release()


def test_missing_file_is_a_permanent_error_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "cam.mp4"

    error = open_error(SourceConfig(url=str(missing)))

    assert error.permanent, "a missing file will not appear by retrying"
    assert str(missing) in error.message and "does not exist" in error.message, error.message


def test_directory_is_a_permanent_error(tmp_path):
    error = open_error(SourceConfig(url=str(tmp_path)))

    assert error.permanent and str(tmp_path) in error.message, error.message


def test_random_bytes_file_is_a_permanent_not_a_video_error(noise_file):
    error = open_error(SourceConfig(url=str(noise_file)))

    assert error.permanent, "noise will not become a video by retrying"
    assert str(noise_file) in error.message and "not a video" in error.message, error.message


def test_truncated_file_fails_permanently_when_its_data_runs_out(truncated_clip):
    source = open_source(SourceConfig(url=str(truncated_clip), realtime=False))
    frames = 0
    try:
        with pytest.raises(SourceError) as caught:
            while source.grab():
                frames += 1
    finally:
        source.release()

    assert frames > 0, "the surviving part of the file should still play"
    assert caught.value.permanent and "truncated" in caught.value.message, caught.value.message


def test_file_without_loop_ends_with_end_of_file(short_clip):
    source = open_source(SourceConfig(url=str(short_clip), realtime=False, loop=False))
    try:
        frames = 0
        while source.grab():
            frames += 1
        assert frames == 23, f"the 23-frame clip gave {frames} frames"
        assert source.end_of_file, "end of a non-looping file must be flagged as such"
        assert not source.grab(), "a finished file must stay finished"
    finally:
        source.release()


def test_looping_file_plays_past_its_end(short_clip):
    source = open_source(SourceConfig(url=str(short_clip), realtime=False, loop=True))
    try:
        grabbed = [source.grab() for _ in range(23 * 3)]
        image = source.retrieve()
    finally:
        source.release()

    assert all(grabbed), f"a looping file failed a grab at {grabbed.index(False)}"
    assert source.loops >= 2 and not source.end_of_file, f"loops={source.loops} end_of_file={source.end_of_file}"
    assert image is not None and image.shape == (270, 480, 3), "frames after the loop are not images"


def test_realtime_file_is_paced_at_its_frame_rate(car_clip):
    clock = FakeClock()
    source = open_source(SourceConfig(url=str(car_clip), realtime=True), clock=clock, sleep=clock.sleep)
    try:
        start = clock()
        for _ in range(26):
            assert source.grab()
    finally:
        source.release()

    # 26 frames at 12.5 fps span 25 frame periods of 80 ms.
    assert clock() - start == pytest.approx(25 / 12.5), f"26 frames took {clock() - start} s of clock time"


def test_non_realtime_file_never_sleeps(car_clip):
    clock = FakeClock()
    source = open_source(SourceConfig(url=str(car_clip), realtime=False), clock=clock, sleep=clock.sleep)
    try:
        for _ in range(10):
            assert source.grab()
    finally:
        source.release()

    assert clock.slept == [], f"non-realtime playback slept {clock.slept}"


# ---- URLs ----------------------------------------------------------------------------


def test_config_itself_rejects_an_unknown_scheme():
    with pytest.raises(pydantic.ValidationError, match="unsupported URL scheme"):
        SourceConfig(url="ftp://camera.local/stream")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://camera.local/stream", "unsupported URL scheme 'ftp'"),
        ("gopher://camera.local/", "unsupported URL scheme 'gopher'"),
        ("rtsp:///no-host", "no host"),
        ("rtsp://camera.local:notaport/stream", "malformed source URL"),
        ("rtsp://camera.local:70000/stream", "malformed source URL"),
        ("rtsp://camera.local/with space", "whitespace"),
        ("rtsp://camera.local/a\r\nInjected: header", "control characters (\\r, \\n)"),
        ("rtsp://camera.local/del\x7f", "control characters (\\x7f)"),
        (f"rtsp://{'h' * 300}/stream", "the host name is 300 characters long"),
    ],
)
def test_unusable_url_is_a_permanent_error(url, expected):
    error = open_error(unvalidated(url))

    assert error.permanent, f"{url!r} cannot start working by retrying"
    assert expected in error.message, error.message


def test_errors_never_show_the_password():
    error = open_error(unvalidated("ftp://admin:hunter2@camera.local/stream"))

    assert "hunter2" not in error.message and "admin:***@" in error.message, error.message


def test_refused_connection_is_transient_and_redacted():
    url = f"rtsp://admin:hunter2@127.0.0.1:{free_port()}/stream"

    error = open_error(SourceConfig(url=url, open_timeout_s=5))

    assert not error.permanent, "a camera that is down may come back"
    assert "hunter2" not in error.message and "could not open" in error.message, error.message


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://hunter2@127.0.0.1:{port}/stream",
        "rtsp://127.0.0.1:{port}/stream?password=hunter2",
        "http://127.0.0.1:{port}/mjpg?user=admin&pwd=hunter2",
    ],
    ids=["user-only secret", "password in the query", "pwd in the query"],
)
def test_refused_connection_hides_every_credential_form(url):
    error = open_error(SourceConfig(url=url.format(port=free_port()), open_timeout_s=5))

    assert "hunter2" not in error.message and "***" in error.message, error.message


def test_silent_server_is_a_transient_timeout(black_hole):
    error = open_error(SourceConfig(url=black_hole.url("rtsp"), open_timeout_s=1.0))

    assert not error.permanent, error.message
    assert "no answer within 1 s" in error.message, error.message


def test_silent_http_server_is_a_transient_timeout(black_hole):
    error = open_error(SourceConfig(url=black_hole.url("http"), open_timeout_s=1.0))

    assert not error.permanent and "no answer" in error.message, error.message


def test_mjpeg_over_http_gives_frames(mjpeg_server):
    source = open_source(SourceConfig(url=mjpeg_server.url, open_timeout_s=10, read_timeout_s=5))
    try:
        assert source.grab() and source.grab(), "no frames from the MJPEG stream"
        image = source.retrieve()
    finally:
        source.release()

    assert image is not None and image.shape == (240, 320, 3), "MJPEG frame is not a 320x240 BGR image"


# ---- FFmpeg options --------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_options_carry_transport_and_socket_timeout(transport):
    config = SourceConfig(url="rtsp://cam.local/s", rtsp_transport=transport, open_timeout_s=4, read_timeout_s=2)

    options = dict(pair.split(";") for pair in ffmpeg_capture_options(config).split("|"))

    assert options["rtsp_transport"] == transport, options
    # FFmpeg >= 5 calls the RTSP socket timeout "timeout"; it is in microseconds.
    assert options["timeout"] == "4000000", options


def test_http_options_have_a_socket_timeout_and_no_rtsp_transport():
    config = SourceConfig(url="http://cam.local/video.mjpg", open_timeout_s=3, read_timeout_s=6)

    options = dict(pair.split(";") for pair in ffmpeg_capture_options(config).split("|"))

    assert options["timeout"] == "6000000" and "rtsp_transport" not in options, options


def test_open_puts_the_capture_options_variable_back(monkeypatch):
    monkeypatch.setenv(sources.CAPTURE_OPTIONS_ENV, "someone;else")

    open_error(SourceConfig(url=f"rtsp://127.0.0.1:{free_port()}/x", open_timeout_s=5))

    assert os.environ[sources.CAPTURE_OPTIONS_ENV] == "someone;else", "the previous value was not restored"


# ---- media time ----------------------------------------------------------------------


def grab_stamps(source, count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        assert source.grab(), f"grab failed after {len(stamps)} frames"
        stamps.append(source.pts)
    return stamps


def test_file_frames_carry_the_container_timestamps(car_clip):
    source = open_source(SourceConfig(url=str(car_clip), realtime=False))
    try:
        stamps = grab_stamps(source, 10)
    finally:
        source.release()

    assert stamps == pytest.approx([i * 0.08 for i in range(10)]), f"12.5 fps file: {stamps}"


def test_variable_frame_timing_of_a_gif_is_kept(short_clip):
    source = open_source(SourceConfig(url=str(short_clip), realtime=False))
    try:
        stamps = grab_stamps(source, 4)
    finally:
        source.release()

    # The gif's frame delays are 80 and 90 ms: its own timing, not a nominal rate.
    assert stamps == pytest.approx([0.0, 0.08, 0.17, 0.25]), f"gif timestamps {stamps}"


def test_a_looping_file_goes_on_in_media_time(short_clip):
    source = open_source(SourceConfig(url=str(short_clip), realtime=False, loop=True))
    try:
        stamps = grab_stamps(source, 23 * 2 + 1)
    finally:
        source.release()

    steps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(step > 0 for step in steps), f"pts went back at the loop: {stamps[20:26]}"
    # The last frame is at 1.83 s; the first frame of the second pass one 12.5 fps period later.
    assert stamps[23] == pytest.approx(1.83 + 0.08), f"first frame of the second pass at {stamps[23]}"
    assert stamps[46] == pytest.approx(2 * (1.83 + 0.08)), f"first frame of the third pass at {stamps[46]}"


def test_realtime_playback_gives_the_same_timestamps(short_clip):
    clock = FakeClock()
    paced = open_source(SourceConfig(url=str(short_clip), realtime=True), clock=clock, sleep=clock.sleep)
    fast = open_source(SourceConfig(url=str(short_clip), realtime=False))
    try:
        paced_stamps, fast_stamps = grab_stamps(paced, 23), grab_stamps(fast, 23)
    finally:
        paced.release()
        fast.release()

    assert paced_stamps == fast_stamps, "media time must not depend on the playback speed"


def test_opening_again_with_the_timeline_continues_media_time(car_clip):
    first = open_source(SourceConfig(url=str(car_clip), realtime=False))
    try:
        before = grab_stamps(first, 5)[-1]
    finally:
        first.release()
    again = open_source(SourceConfig(url=str(car_clip), realtime=False), timeline=first.timeline)
    try:
        after = grab_stamps(again, 2)
    finally:
        again.release()

    assert after == pytest.approx([before + 0.08, before + 0.16]), f"{before} then {after}"


def test_mjpeg_media_time_follows_arrival_not_ffmpegs_assumed_rate(mjpeg_server):
    # FFmpeg numbers MJPEG frames at an assumed 25 fps; the server sends 10 a second.
    clock_start = time.monotonic()
    source = open_source(SourceConfig(url=mjpeg_server.url, open_timeout_s=10, read_timeout_s=5))
    try:
        stamps = grab_stamps(source, 21)
    finally:
        source.release()
    elapsed = time.monotonic() - clock_start

    span = stamps[-1] - stamps[0]
    assert 1.0 <= span <= elapsed, f"20 frames at 10 fps span about 2 s of media time, got {span:.2f} s"
    assert all(b > a for a, b in itertools.pairwise(stamps)), f"pts must increase: {stamps}"


@pytest.mark.rtsp
def test_rtsp_frames_carry_the_stream_timestamps(rtsp_server):
    source = open_source(SourceConfig(url=rtsp_server.url("/clip"), open_timeout_s=10))
    try:
        stamps = grab_stamps(source, 30)
    finally:
        source.release()

    steps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(step > 0 for step in steps), f"pts must increase: {stamps}"
    # The clip mount sends the 12.5 fps file as is: its frames are 80 ms of footage apart.
    assert stamps[-1] - stamps[1] == pytest.approx(28 * 0.08, abs=0.05), f"RTSP timestamps {stamps}"


# ---- decode shortcut -----------------------------------------------------------------------


def _frame_after(clip, grabs: int, skip_loop_filter: str):
    source = open_source(SourceConfig(url=str(clip), realtime=False, skip_loop_filter=skip_loop_filter))
    try:
        for _ in range(grabs):
            assert source.grab(), "the clip has this many frames"
        return source.retrieve()
    finally:
        source.release()


def test_skipping_the_loop_filter_changes_the_decoded_p_frames(car_clip):
    default = _frame_after(car_clip, 40, "none")
    shortcut = _frame_after(car_clip, 40, "all")
    assert default.shape == shortcut.shape, "the same frame size"
    differing = float((default != shortcut).mean())
    assert differing > 0.01, f"without deblocking, the 40th frame (a P-frame) decodes differently: {differing:.4f}"


def test_skipping_it_on_non_reference_frames_leaves_a_stream_without_b_frames_as_it_was(car_clip):
    default = _frame_after(car_clip, 40, "none")
    nonref = _frame_after(car_clip, 40, "noref")
    assert (default == nonref).all(), "every frame of a baseline H.264 clip is a reference: nothing skipped"


def test_an_unknown_decode_shortcut_is_refused_naming_the_field():
    with pytest.raises(pydantic.ValidationError, match="skip_loop_filter"):
        SourceConfig(url="cam.mp4", skip_loop_filter="fast")
