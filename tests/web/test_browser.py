"""The console in a real browser (Debian's Chromium, headless, via Selenium), against
the serve path `matthan serve` runs: a front door (gateway + web console) over the
scheduler actor and real camera actors on local Ray, decoding a synthetic street clip
in real time.

One scheduler, three cameras (two in ward "phuong-1", one in "phuong-2"), one gateway
and its console are shared by the module (actor start-up is the expensive part); each
test has a fresh browser profile. Screenshots are saved under pytest's tmp dir and
their paths printed (`pytest -s` shows them).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from cluster.config import AnalysisConfig, CameraConfig, MotionConfig, SourceConfig
from cluster.config.server import ServerConfig
from cluster.demo import ClipSpec, ensure_demo_clips
from cluster.domain import CameraState
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.gateway.auth import Authenticator, hash_token
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from cluster.web.server import WebConsole
from tests.conftest import test_file_roots
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.gateway.fakes import LoopThread

from .browser import changed_fraction, console_errors, element_image, start_browser
from .harness import AccessRecords

pytestmark = pytest.mark.slow

CLIP = ClipSpec("web", seed=5, people=5, vehicles=2, seconds=4, width=320, height=180)
CAMERAS = (
    ("cho-p3", "Chợ phường 3", "phuong-1"),
    ("hem-12", "Hẻm 12 Lê Lợi", "phuong-1"),
    ("nga-tu", "Ngã tư quốc lộ", "phuong-2"),
)
TOKENS = {
    "admin": ("web-admin-secret-0001", {"role": "admin"}),
    "ward": ("web-ward-secret-0002", {"role": "viewer", "groups": ["phuong-1"]}),
}
START_TIMEOUT_S = 120.0  # camera actor processes start slowly on a busy 2-core machine
PAGE_TIMEOUT_S = 30.0


class RealConsole:
    """Gateway + web console (and a second, no-token console on the same fan-out) in front
    of the scheduler path, on one event-loop thread."""

    def __init__(self, clip: Path, state_dir: Path):
        self.clip, self.state_dir = clip, state_dir
        self.loop_thread = LoopThread()
        self.records = AccessRecords()
        self.serve_path: ServePath | None = None
        self.gateway: GatewayServer | None = None
        self.web: WebConsole | None = None
        self.open_web: WebConsole | None = None

    def start(self) -> None:
        config = ServerConfig(
            host="127.0.0.1",
            port=0,
            tokens=[{"name": n, "sha256": hash_token(t), **extra} for n, (t, extra) in TOKENS.items()],
            grace_period_s=0.5,
            camera_refresh_s=0.5,
            web={"port": 0, "tile_fps": 2.0, "large_fps": 5.0, "status_refresh_s": 0.5},
            file_roots=test_file_roots(),
        )
        open_config = ServerConfig(
            host="127.0.0.1", port=0, allow_unauthenticated=True, web={"port": 0}, file_roots=test_file_roots()
        )
        cameras = [
            CameraConfig(
                id=camera_id,
                name=name,
                groups=[group],
                source=SourceConfig(url=str(self.clip), loop=True, realtime=True, open_timeout_s=5, read_timeout_s=3),
                analysis=AnalysisConfig(fps=5.0, motion=MotionConfig(min_area=0.001)),
            )
            for camera_id, name, group in CAMERAS
        ]
        logger = logging.getLogger(f"{ACCESS_LOGGER}.browser-test")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self.records)

        async def start() -> None:
            self.serve_path = await ServePath.start(self.state_dir, cameras, prefix="web-real")
            settings = FanoutSettings(pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.3)
            self.gateway = GatewayServer(self.serve_path.client, config, fanout_settings=settings, access_logger=logger)
            await self.gateway.start()
            self.web = WebConsole.beside(self.gateway)
            await self.web.start()
            state = self.gateway.state
            self.open_web = WebConsole(
                state.control,
                open_config,
                auth=Authenticator(open_config),
                fanout=state.fanout,
                access=state.access,
                watch=state.watch,
            )
            await self.open_web.start()

        self.loop_thread.run(start(), timeout=60)
        for camera_id, _, _ in CAMERAS:
            self.wait_live(camera_id)

    @property
    def url(self) -> str:
        assert self.web is not None
        return self.web.url

    def wait_live(self, camera_id: str) -> None:
        assert self.serve_path is not None
        client = self.serve_path.client

        def live() -> bool:
            view = self.loop_thread.run(client.get_camera(camera_id))
            return view.status is not None and view.status.state is CameraState.LIVE and view.status.last_sequence > 0

        wait_until(live, START_TIMEOUT_S, f"camera {camera_id} live and publishing", poll_s=0.5)

    def upstream_loops(self) -> dict[str, int]:
        assert self.gateway is not None
        return self.loop_thread.call(lambda: self.gateway.fanout.upstream_loops)

    def close(self) -> None:
        try:
            for console in (self.open_web, self.web):
                if console is not None:
                    self.loop_thread.run(console.stop(), timeout=30)
            if self.gateway is not None:
                self.loop_thread.run(self.gateway.stop(0), timeout=30)
        finally:
            try:
                if self.serve_path is not None:
                    self.loop_thread.run(self.serve_path.stop(), timeout=60)
            finally:
                self.loop_thread.close()


class LazyConsole:
    """Module-shared, but started only once `ray_local` (a function fixture) has run."""

    def __init__(self, clip: Path, state_dir: Path):
        self._clip, self._state_dir = clip, state_dir
        self.console: RealConsole | None = None

    def get(self) -> RealConsole:
        if self.console is None:
            console = RealConsole(self._clip, self._state_dir)
            try:
                console.start()
            except BaseException:
                console.close()
                raise
            self.console = console
        return self.console


@pytest.fixture(scope="module")
def shared_console(tmp_path_factory: pytest.TempPathFactory):
    clip = ensure_demo_clips(tmp_path_factory.mktemp("clips"), (CLIP,))[0]
    lazy = LazyConsole(clip, tmp_path_factory.mktemp("scheduler-state"))
    yield lazy
    if lazy.console is not None:
        lazy.console.close()


@pytest.fixture
def real(ray_local, shared_console: LazyConsole) -> RealConsole:
    return shared_console.get()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-screenshots")


@pytest.fixture
def driver(tmp_path: Path):
    with start_browser(tmp_path / "chromium-profile") as browser:
        yield browser


def save(driver: WebDriver, screenshots: Path, name: str) -> Path:
    path = screenshots / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def tiles(driver: WebDriver) -> dict[str, object]:
    return {t.get_attribute("data-camera"): t for t in driver.find_elements(By.CSS_SELECTOR, "#wall .tile")}


def frames_drawn(driver: WebDriver, selector: str) -> int:
    """Frames drawn into `selector` so far (0 while the page has not rendered it yet)."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return int(found[0].get_attribute("data-frames") or 0) if found else 0


def log_in(driver: WebDriver, url: str, who: str) -> None:
    driver.get(url)
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "the login form")
    driver.find_element(By.ID, "token").send_keys(TOKENS[who][0])
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: driver.find_elements(By.ID, "wall"), PAGE_TIMEOUT_S, "the wall after login")


def wait_tiles_playing(driver: WebDriver, expected: set[str]) -> None:
    def playing() -> bool:
        shown = tiles(driver)
        return set(shown) == expected and all(
            frames_drawn(driver, f'#wall canvas[data-camera="{c}"]') >= 1 for c in expected
        )

    wait_until(playing, PAGE_TIMEOUT_S, lambda: f"tiles {sorted(expected)} playing; shown: {sorted(tiles(driver))}")


def fetch(driver: WebDriver, path: str) -> dict:
    """A same-origin fetch from the page (with its cookies): status and some headers."""
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {cache: "no-store"}).then(
            r => done({status: r.status, type: r.headers.get("content-type"),
                       disposition: r.headers.get("content-disposition")}),
            e => done({status: 0, error: String(e)}));
    """
    return driver.execute_async_script(script, path)


# ----------------------------------------------------------------------- tests


def test_login_shows_one_live_tile_per_camera_with_pictures_that_change(real, driver, screenshots) -> None:
    driver.get(real.url)
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "the login form")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi", "Vietnamese by default"
    assert "Đăng nhập" in driver.find_element(By.ID, "login-form").text, "the login form speaks Vietnamese"
    save(driver, screenshots, "01-login")
    driver.find_element(By.ID, "token").send_keys(TOKENS["admin"][0])
    driver.find_element(By.ID, "login-submit").click()
    expected = {camera_id for camera_id, _, _ in CAMERAS}
    wait_tiles_playing(driver, expected)

    def tile_names() -> dict[str, str]:
        shown = tiles(driver)
        return {c: shown[c].find_element(By.CSS_SELECTOR, ".name").text for c in sorted(shown)}

    names = wait_until(tile_names, PAGE_TIMEOUT_S, "the tiles' names", tolerate_errors=True)
    assert names == {c: n for c, n, _ in CAMERAS}, f"tiles carry the Vietnamese camera names: {names}"
    wait_until(
        lambda: all(t.get_attribute("data-state") == "live" for t in tiles(driver).values()),
        PAGE_TIMEOUT_S,
        "every badge live",
    )

    def badges() -> list[str]:
        return [t.find_element(By.CSS_SELECTOR, ".badge").text for t in tiles(driver).values()]

    # The wall re-renders tiles as states arrive: an element read mid-render is stale, so poll.
    wait_until(lambda: badges() == ["Trực tiếp"] * 3, PAGE_TIMEOUT_S, "the live badges", tolerate_errors=True)
    columns = driver.find_element(By.ID, "wall").get_attribute("data-columns")
    assert columns == "2", f"3 tiles make a 2-column grid, got {columns}"

    selectors = {c: f'#wall canvas[data-camera="{c}"]' for c in sorted(expected)}
    before = {c: element_image(driver, s) for c, s in selectors.items()}
    counts = {c: frames_drawn(driver, s) for c, s in selectors.items()}
    save(driver, screenshots, "02-wall")
    wait_until(
        lambda: all(frames_drawn(driver, s) >= counts[c] + 3 for c, s in selectors.items()),
        PAGE_TIMEOUT_S,
        "three more frames on every tile",
    )
    after = {c: element_image(driver, s) for c, s in selectors.items()}
    save(driver, screenshots, "03-wall-later")
    for camera_id in selectors:
        assert before[camera_id].std() > 10, f"{camera_id}: the tile shows a picture, not a blank canvas"
        changed = changed_fraction(before[camera_id], after[camera_id])
        assert changed > 0.002, f"{camera_id}: the picture must change over time ({changed:.4%} of pixels changed)"
    assert real.upstream_loops().keys() == expected, "each camera is fetched upstream by the gateway's hubs"
    assert not console_errors(driver), f"the page logged errors (CSP, scripts): {console_errors(driver)}"
    watched = {r["cameras"][0] for r in real.records.of("stream_start", "WebFrames") if r["who"] == "admin"}
    assert watched == expected, f"every tile view is in the access log: {watched}"


def test_the_interface_switches_to_english_and_keeps_it(real, driver, screenshots) -> None:
    log_in(driver, real.url, "admin")
    driver.find_element(By.ID, "language").click()
    wait_until(
        lambda: driver.find_element(By.CSS_SELECTOR, '#nav a[data-view="wall"]').text == "Video wall",
        PAGE_TIMEOUT_S,
        "English navigation",
    )
    driver.refresh()
    wait_until(lambda: driver.find_elements(By.ID, "wall"), PAGE_TIMEOUT_S, "the wall after reload")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the choice is kept"
    save(driver, screenshots, "04-wall-english")


def test_a_scoped_viewer_sees_only_its_wards_tiles_and_403_for_another_camera(real, driver, screenshots) -> None:
    log_in(driver, real.url, "ward")
    wait_tiles_playing(driver, {"cho-p3", "hem-12"})
    save(driver, screenshots, "05-ward-wall")
    driver.get(real.url + "camera/nga-tu")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".error-page"), PAGE_TIMEOUT_S, "the error page")
    page = driver.find_element(By.CSS_SELECTOR, ".error-page")
    assert page.get_attribute("data-status") == "403", f"another ward's camera: {page.text}"
    assert "Bạn không có quyền xem camera này" in page.text, f"the page says why: {page.text}"
    assert fetch(driver, "/camera/nga-tu")["status"] == 403, "the URL itself answers 403"
    assert fetch(driver, "/api/cameras/nga-tu/snapshot")["status"] == 403, "and so does its snapshot"
    save(driver, screenshots, "06-ward-403")
    driver.get(real.url + "health")
    wait_until(
        lambda: len(driver.find_elements(By.CSS_SELECTOR, "#health tbody tr")) == 2, PAGE_TIMEOUT_S, "health rows"
    )

    def health_rows() -> dict[str, str]:
        found = driver.find_elements(By.CSS_SELECTOR, "#health tbody tr")
        return {r.get_attribute("data-camera"): r.text for r in found}

    rows = wait_until(
        health_rows,
        PAGE_TIMEOUT_S,
        "the health rows",
        tolerate_errors=True,
    )
    assert set(rows) == {"cho-p3", "hem-12"}, f"health shows the ward's cameras only: {rows}"
    save(driver, screenshots, "07-ward-health")


def test_one_camera_large_with_boxes_status_and_a_snapshot(real, driver, screenshots) -> None:
    log_in(driver, real.url, "admin")
    wait_tiles_playing(driver, {c for c, _, _ in CAMERAS})
    tiles(driver)["hem-12"].click()
    wait_until(lambda: driver.current_url.endswith("/camera/hem-12"), PAGE_TIMEOUT_S, "the one-camera view")
    wait_until(lambda: frames_drawn(driver, "#large") >= 3, PAGE_TIMEOUT_S, "frames in the large view")
    assert driver.find_element(By.ID, "camera-name").text == "Hẻm 12 Lê Lợi"
    width = int(driver.find_element(By.ID, "large").get_attribute("width"))
    assert width == CLIP.width, f"the large view shows the camera's full width ({CLIP.width}), got {width}"
    status = driver.find_element(By.ID, "camera-status").text
    assert "Trực tiếp" in status and "Máy chủ (node)" in status, f"the camera's status: {status}"
    driver.find_element(By.ID, "overlay").click()
    wait_until(
        lambda: int(driver.find_element(By.ID, "large").get_attribute("data-boxes") or 0) >= 1,
        PAGE_TIMEOUT_S,
        "detection boxes drawn over the picture",
    )
    save(driver, screenshots, "08-camera-boxes")
    snapshot = fetch(driver, driver.find_element(By.ID, "snapshot").get_attribute("href"))
    assert snapshot["status"] == 200 and snapshot["type"] == "image/jpeg", f"snapshot download: {snapshot}"
    assert snapshot["disposition"].startswith('attachment; filename="hem-12-'), snapshot
    large = [r for r in real.records.of("stream_start", "WebFrames") if r["size"] == "large"]
    assert large and large[-1]["cameras"] == ["hem-12"], "the large view is in the access log"


def test_logout_ends_the_session(real, driver, screenshots) -> None:
    log_in(driver, real.url, "admin")
    cookie = driver.get_cookie("matthan_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict", f"cookie: {cookie}"
    driver.find_element(By.ID, "logout").click()
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "the login form after logout")
    save(driver, screenshots, "09-logged-out")
    request = urllib.request.Request(real.url + "api/session", headers={"Cookie": f"matthan_session={cookie['value']}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert json.load(reply)["authenticated"] is False, "the old session cookie must open nothing"
    driver.get(real.url)
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "still logged out after a reload")


def test_the_no_token_mode_opens_the_wall_without_login(real, driver, screenshots) -> None:
    assert real.open_web is not None
    driver.get(real.open_web.url)
    wait_tiles_playing(driver, {c for c, _, _ in CAMERAS})
    assert not driver.find_elements(By.ID, "token"), "no login form in the no-token mode"
    assert "khách" in driver.find_element(By.ID, "user").text, "the user is shown as a guest"
    save(driver, screenshots, "10-no-token-wall")
