"""Playing recorded footage in Debian's Chromium (headless, Selenium): from an event of
the live feed, the player starts `pre_event_s` before it, plays the masked H.264 window
(Chromium decodes it: readyState, duration, currentTime advancing), shows the timeline
with the camera's gap marked with its reason, and crosses the gap into the footage
after it; the camera view has the timeline of the last hour and plays a clicked moment.

Real footage recorded by the real recorder (tests/web/recorded.py), a real SQLite event
store, the console over the gateway's in-memory control plane (as tests/web/test_*.py).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from cluster.events import EventStore
from tests.events.factory import event
from tests.fixtures.waiting import wait_until

from .browser import console_errors, element_image, start_browser
from .conftest import token
from .event_store import ConsoleStoreQueries
from .recorded import MASK, PASS_S, SECOND_OFFSET_S, SECOND_START, T0, record_with_gap, recorded_camera

PAGE_TIMEOUT_S = 30.0
PLAY_TIMEOUT_S = 120.0  # a window is encoded first: seconds alone, much longer on a loaded machine
EVENT_AT = SECOND_START + 2.0  # a car in the second pass, after the stream came back
PRE_EVENT_S = 10.0  # the default: the player starts in the gap


@pytest.fixture
def events(tmp_path: Path):
    queries = ConsoleStoreQueries(EventStore(tmp_path / "events.sqlite3"))
    yield queries
    queries.close()


@pytest.fixture
def player_console(events, make_console, tmp_path: Path, media: Path):
    root = tmp_path / "recordings"
    record_with_gap(root, media / "car-detection.mp4")
    events.write([event(0, camera="cam-a", type="line_crossing", rule="cong", start=EVENT_AT, direction="a_to_b")])
    cameras = [
        recorded_camera("cam-a", ("ward-1",), root, masks=[MASK]),
        recorded_camera("cam-b", ("ward-2",), root),
    ]
    return make_console(cameras, events=events)


@pytest.fixture
def driver(tmp_path: Path):
    with start_browser(tmp_path / "chromium-profile") as browser:
        yield browser


def log_in(driver: WebDriver, url: str, who: str) -> None:
    driver.get(url)
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "the login form")
    driver.find_element(By.ID, "token").send_keys(token(who))
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: driver.find_elements(By.ID, "bar"), PAGE_TIMEOUT_S, "the console after login")


def video_state(driver: WebDriver) -> dict:
    return driver.execute_script(
        """const v = document.getElementById("playback-video");
           const p = document.getElementById("player");
           if (!v) return null;
           return {ready: v.readyState, duration: v.duration, time: v.currentTime, paused: v.paused,
                   error: v.error && v.error.message, at: Number(p.dataset.at || 0),
                   window: Number(p.dataset.window || 0)};"""
    )


def test_playing_an_event_starts_before_it_shows_the_gap_and_plays_through(
    player_console, driver: WebDriver, tmp_path: Path
) -> None:
    log_in(driver, player_console.base_url + "events", "viewer-a")
    wait_until(
        lambda: driver.find_elements(By.CSS_SELECTOR, "#events .event[data-camera='cam-a'] button.play"),
        PAGE_TIMEOUT_S,
        "the event with its play control in the feed",
    )
    assert "Xem lại" in driver.find_element(By.CSS_SELECTOR, "#events button.play").text, "Vietnamese by default"
    driver.find_element(By.CSS_SELECTOR, "#events button.play").click()

    wait_until(
        lambda: (video_state(driver) or {}).get("ready", 0) >= 2, PLAY_TIMEOUT_S, lambda: str(video_state(driver))
    )
    first = video_state(driver)
    assert first["error"] is None and first["duration"] > 0, f"Chromium plays the H.264 window: {first}"
    assert first["window"] == T0, "the 30 s window on the clock's grid holding the start"
    assert first["at"] == pytest.approx(EVENT_AT - PRE_EVENT_S, abs=1.5), f"starts pre_event_s before: {first}"

    gap = driver.find_element(By.CSS_SELECTOR, "#timeline .gap")
    assert gap.get_attribute("data-reason").startswith("camera stream down"), "the gap is on the timeline"
    listed = driver.find_element(By.ID, "gap-list").text
    assert "Không ghi hình: camera stream down" in listed, f"the gap's reason is shown: {listed!r}"
    assert driver.find_elements(By.CSS_SELECTOR, "#timeline .range"), "recorded ranges drawn"
    assert driver.find_elements(By.CSS_SELECTOR, "#timeline .event-mark"), "the event marked"

    wait_until(
        lambda: video_state(driver)["at"] > EVENT_AT + 1.0,
        PLAY_TIMEOUT_S,
        lambda: f"playing through the gap to after the event: {video_state(driver)}",
    )
    later = video_state(driver)
    assert later["time"] > first["time"] and not later["paused"], f"currentTime advances: {first} -> {later}"
    assert driver.find_element(By.ID, "gap-notice").get_attribute("hidden") is not None, "past the gap: no notice"

    driver.execute_script(
        """const input = document.getElementById("pre-event");
           input.value = "3"; input.dispatchEvent(new Event("change"));"""
    )
    wait_until(
        lambda: float(driver.find_element(By.ID, "player").get_attribute("data-start")) == EVENT_AT - 3,
        PLAY_TIMEOUT_S,
        "the player starts again 3 s before the event",
    )
    kept = driver.execute_script('return localStorage.getItem("matthan.pre_event_s")')
    assert kept == "3", "the changed time before events is kept in this browser"
    wait_until(lambda: video_state(driver)["at"] >= EVENT_AT - 3, PLAY_TIMEOUT_S, lambda: str(video_state(driver)))

    driver.execute_script('document.getElementById("playback-video").pause()')
    image = element_image(driver, "#playback-video")
    h, w = image.shape[:2]
    assert image[int(h * 0.1) : int(h * 0.4), int(w * 0.1) : int(w * 0.4)].max() <= 40, "the masked quarter is black"
    driver.save_screenshot(str(tmp_path / "playback.png"))
    print(f"screenshot: {tmp_path / 'playback.png'}")

    [line, *_] = player_console.records.of("call", "WebPlayback")
    assert (line["who"], line["cameras"], line["start_s"]) == ("viewer-a", ["cam-a"], T0), line
    assert not [e for e in console_errors(driver) if "playback" in e], console_errors(driver)


def test_the_camera_view_has_the_last_hours_timeline_and_plays_a_clicked_moment(
    events, make_console, tmp_path: Path, media: Path, driver: WebDriver
) -> None:
    root = tmp_path / "recent"
    start = float(math.floor(time.time())) - 300.0  # recorded five minutes ago: in the page's last hour
    record_with_gap(root, media / "car-detection.mp4", start=start)
    console = make_console([recorded_camera("cam-a", ("ward-1",), root, masks=[MASK])], events=events)
    log_in(driver, console.base_url + "camera/cam-a", "operator")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#timeline .gap"), PAGE_TIMEOUT_S, "the gap drawn")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline .range")) == 2, "both recorded ranges"
    bar = driver.find_element(By.ID, "timeline")
    target = start + SECOND_OFFSET_S + 5.0  # a moment of the second pass
    box = bar.rect
    timeline = driver.execute_script(
        "const b = document.getElementById('timeline'); return [Number(b.dataset.from), Number(b.dataset.to)]"
    )
    x = (target - timeline[0]) / (timeline[1] - timeline[0]) * box["width"]
    ActionChains(driver).move_to_element_with_offset(bar, int(x - box["width"] / 2), 0).click().perform()
    wait_until(
        lambda: (video_state(driver) or {}).get("ready", 0) >= 2 and video_state(driver)["at"] > start + PASS_S,
        PLAY_TIMEOUT_S,
        lambda: f"the clicked moment plays: {video_state(driver)}",
    )
    played = video_state(driver)
    assert played["at"] == pytest.approx(target, abs=timeline_slack(timeline, box["width"])), played

    # After the last recording (the end of the page's hour is now): nothing to play, and it says so.
    ActionChains(driver).move_to_element_with_offset(bar, int(box["width"] / 2) - 2, 0).click().perform()
    message = driver.find_element(By.ID, "playback-message")
    wait_until(message.is_displayed, PLAY_TIMEOUT_S, "a message that nothing was recorded then")
    assert message.text == "Không có bản ghi trong khoảng thời gian này.", message.text
    [*_, last] = console.records.of("call", "WebPlayback")
    assert last["status"] == "NOT_FOUND", last
    assert video_state(driver)["paused"], "the footage of another moment does not go on playing"


def timeline_slack(timeline: list[float], width: float) -> float:
    """A click lands within a pixel or two; playing moves on a little meanwhile."""
    return 3 * (timeline[1] - timeline[0]) / width + 3.0
