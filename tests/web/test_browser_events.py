"""The console's events in a real browser (Debian's Chromium, headless, via Selenium),
against the serve path `matthan serve` runs: the scheduler and a real camera actor on
local Ray playing `car-detection.mp4` in real time with a line across the road, the
event writer actor following its ring into SQLite (`ensure_event_writer`, as
`matthan serve` creates it), and the front door (gateway + console) reading the store
through `EventWriterClient`.

One scheduler, writer, gateway and console are shared by the module (actor start-up is
the expensive part); each test has a fresh browser profile. Screenshots are saved
under pytest's tmp dir and their paths printed (`pytest -s` shows them).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from cluster.config import CameraConfig, EventsConfig
from cluster.config.server import ServerConfig
from cluster.domain import CameraState, EventType
from cluster.events import EventFilter, Order
from cluster.eventwriter.actor import ensure_event_writer
from cluster.eventwriter.client import EventWriterClient
from cluster.eventwriter.settings import EventWriterSettings
from cluster.gateway.access_log import ACCESS_LOGGER
from cluster.gateway.auth import hash_token
from cluster.gateway.event_feed import EventFeedSettings
from cluster.gateway.fanout import FanoutSettings
from cluster.gateway.server import GatewayServer
from cluster.web.server import WebConsole
from tests.conftest import test_file_roots
from tests.fixtures.serve_path import ServePath
from tests.fixtures.waiting import wait_until
from tests.gateway.fakes import LoopThread

from .browser import console_errors, start_browser
from .harness import AccessRecords

pytestmark = pytest.mark.slow

LINE = {"lines": [{"name": "vach-giua", "start": [0.0, 0.5], "end": [1.0, 0.5], "severity": "alert"}]}
CAMERA = ("duong-lon", "Đường lớn Lê Lợi", "phuong-1")
TOKENS = {
    "operator": ("web-ev-operator-0001", {"role": "operator"}),
    "other-ward": ("web-ev-ward-0002", {"role": "viewer", "groups": ["phuong-9"]}),
}
START_TIMEOUT_S = 120.0  # actor processes start slowly on a busy 2-core machine
EVENT_TIMEOUT_S = 90.0  # the clip loops every 30 s with 4 crossings; generous for a loaded machine
SHOWN_TIMEOUT_S = 10.0  # from stored to drawn in the feed: "within seconds"
PAGE_TIMEOUT_S = 30.0
FEED = EventFeedSettings(pull_timeout_s=1.0, retry_initial_s=0.1, retry_max_s=0.5)


class EventsConsole:
    def __init__(self, clip: Path, state_dir: Path):
        self.clip, self.state_dir = clip, state_dir.resolve()
        self.loop_thread = LoopThread()
        self.records = AccessRecords()
        self.serve_path: ServePath | None = None
        self.writer: EventWriterClient | None = None
        self.gateway: GatewayServer | None = None
        self.web: WebConsole | None = None

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
        camera_id, name, group = CAMERA
        camera = CameraConfig.model_validate(
            {
                "id": camera_id,
                "name": name,
                "groups": [group],
                "source": {"url": str(self.clip), "loop": True, "realtime": True},
                "rules": LINE,
            }
        )
        logger = logging.getLogger(f"{ACCESS_LOGGER}.browser-events-test")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self.records)

        async def start() -> None:
            self.serve_path = await ServePath.start(self.state_dir, [camera], prefix="web-ev")
            events = EventsConfig.model_validate({"batch": {"flush_interval_s": 0.2}})
            settings = EventWriterSettings(namespace=self.serve_path.namespace, state_dir=self.state_dir, events=events)
            self.writer = EventWriterClient(ensure_event_writer(settings), settings.namespace)
            self.gateway = GatewayServer(
                self.serve_path.client,
                config,
                fanout_settings=FanoutSettings(pull_timeout_s=0.5, retry_initial_s=0.05, retry_max_s=0.3),
                access_logger=logger,
                events=self.writer,
                event_feed_settings=FEED,
            )
            await self.gateway.start()
            self.web = WebConsole.beside(self.gateway)
            await self.web.start()

        self.loop_thread.run(start(), timeout=90)
        client = self.serve_path.client  # type: ignore[union-attr]

        def live() -> bool:
            view = self.loop_thread.run(client.get_camera(camera_id))
            return view.status is not None and view.status.state is CameraState.LIVE

        wait_until(live, START_TIMEOUT_S, f"camera {camera_id} live", poll_s=0.5)

    @property
    def url(self) -> str:
        assert self.web is not None
        return self.web.url

    def stored(self) -> list:
        """The stored line crossings, newest first (through the writer actor)."""
        assert self.writer is not None
        page = self.loop_thread.run(
            self.writer.query(
                EventFilter(types={EventType.LINE_CROSSING}), order=Order.NEWEST_FIRST, page_size=100, cursor=None
            ),
            30,
        )
        return list(page.events)

    def close(self) -> None:
        try:
            if self.web is not None:
                self.loop_thread.run(self.web.stop(), timeout=30)
            if self.gateway is not None:
                self.loop_thread.run(self.gateway.stop(0), timeout=30)
            if self.writer is not None:
                self.loop_thread.run(self.writer.shutdown(), timeout=60)
        finally:
            try:
                if self.serve_path is not None:
                    self.loop_thread.run(self.serve_path.stop(), timeout=90)
            finally:
                self.loop_thread.close()


@pytest.fixture(scope="module")
def shared_events_console(media: Path, tmp_path_factory: pytest.TempPathFactory):
    holder: dict[str, EventsConsole] = {}
    yield holder, media / "car-detection.mp4", tmp_path_factory.mktemp("web-events-state")
    if "console" in holder:
        holder["console"].close()


@pytest.fixture
def real(ray_local, shared_events_console) -> EventsConsole:
    holder, clip, state_dir = shared_events_console
    if "console" not in holder:
        console = EventsConsole(clip, state_dir)
        try:
            console.start()
        except BaseException:
            console.close()
            raise
        holder["console"] = console
    return holder["console"]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-events-screenshots")


@pytest.fixture
def driver(tmp_path: Path):
    with start_browser(tmp_path / "chromium-profile") as browser:
        yield browser


def save(driver: WebDriver, screenshots: Path, name: str) -> Path:
    path = screenshots / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def log_in(driver: WebDriver, url: str, who: str) -> None:
    driver.get(url)
    wait_until(lambda: driver.find_elements(By.ID, "token"), PAGE_TIMEOUT_S, "the login form")
    driver.find_element(By.ID, "token").send_keys(TOKENS[who][0])
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: driver.find_elements(By.ID, "wall"), PAGE_TIMEOUT_S, "the wall after login")


def feed_ids(driver: WebDriver, selector: str = "#events li.event") -> list[str]:
    return [row.get_attribute("data-event-id") for row in driver.find_elements(By.CSS_SELECTOR, selector)]


def page_errors(driver: WebDriver) -> list[str]:
    # An event stored without a picture answers 404 to its thumbnail: the row hides it.
    return [e for e in console_errors(driver) if "/thumbnail" not in e]


# ----------------------------------------------------------------------- tests


def test_a_line_crossing_appears_in_the_walls_feed_within_seconds(real, driver, screenshots) -> None:
    log_in(driver, real.url, "operator")
    wait_until(lambda: driver.find_elements(By.ID, "events"), PAGE_TIMEOUT_S, "the events feed beside the wall")
    wait_until(real.stored, EVENT_TIMEOUT_S, "a line crossing stored by the writer", poll_s=1.0)
    # The newest crossing stored from now on must be drawn within seconds.
    seen = {e.event_id for e in real.stored()}
    wait_until(
        lambda: any(e.event_id not in seen for e in real.stored()), EVENT_TIMEOUT_S, "a new crossing", poll_s=0.5
    )
    newest = real.stored()[0]
    wait_until(
        lambda: newest.event_id in feed_ids(driver),
        SHOWN_TIMEOUT_S,
        lambda: f"crossing {newest.event_id} in the feed; shown: {feed_ids(driver)}",
    )
    selector = f'#events li[data-event-id="{newest.event_id}"]'

    def row_now() -> tuple[str, str]:  # the feed re-renders as events arrive: read a row in one go
        row = driver.find_element(By.CSS_SELECTOR, selector)
        return row.text, row.get_attribute("class") or ""

    text, classes = wait_until(row_now, PAGE_TIMEOUT_S, "the crossing's row", tolerate_errors=True)
    assert "Đường lớn Lê Lợi" in text and "vach-giua" in text, f"the row names the camera and the rule: {text}"
    assert "Vượt vạch" in text, f"the event type in Vietnamese: {text}"
    assert "alert" in classes.split(), f"an alert is highlighted: {classes}"
    save(driver, screenshots, "11-wall-events-feed")
    assert not page_errors(driver), f"the page logged errors (CSP, scripts): {page_errors(driver)}"
    feeds = [r for r in real.records.of("stream_start", "WebEvents") if r["who"] == "operator"]
    assert feeds, "the feed is a stream in the access log"


def test_the_one_camera_view_lists_its_recent_events(real, driver, screenshots) -> None:
    wait_until(real.stored, EVENT_TIMEOUT_S, "a line crossing stored by the writer", poll_s=1.0)
    log_in(driver, real.url, "operator")
    driver.get(real.url + f"camera/{CAMERA[0]}")
    wait_until(
        lambda: feed_ids(driver, "#camera-events li.event"), PAGE_TIMEOUT_S, "the camera's recent events beside it"
    )
    stored = {e.event_id for e in real.stored()}
    shown = feed_ids(driver, "#camera-events li.event")
    assert set(shown) & stored, f"the camera's stored crossings are listed: {shown}"
    save(driver, screenshots, "12-camera-events")


def test_a_viewer_of_another_ward_gets_none_of_its_events(real, driver, screenshots) -> None:
    wait_until(real.stored, EVENT_TIMEOUT_S, "a line crossing stored by the writer", poll_s=1.0)
    log_in(driver, real.url, "other-ward")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#events"), PAGE_TIMEOUT_S, "the feed")
    seen = {e.event_id for e in real.stored()}
    wait_until(
        lambda: any(e.event_id not in seen for e in real.stored()), EVENT_TIMEOUT_S, "a new crossing", poll_s=0.5
    )
    assert feed_ids(driver) == [], "another ward's viewer sees none of this camera's events"
    newest = real.stored()[0]
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];fetch(arguments[0]).then(r => done(r.status), e => done(0));",
        f"/api/events/{newest.event_id}/thumbnail",
    )
    assert status == 404, f"nor its thumbnail by URL: {status}"


def test_acknowledging_an_alert_shows_it_acknowledged_after_a_reload(real, driver, screenshots) -> None:
    wait_until(real.stored, EVENT_TIMEOUT_S, "a line crossing stored by the writer", poll_s=1.0)
    log_in(driver, real.url, "operator")
    driver.get(real.url + "events")
    selector = "#events li.event.alert:not(.acknowledged) button.ack"
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, selector), PAGE_TIMEOUT_S, "an alert to acknowledge")
    button = driver.find_element(By.CSS_SELECTOR, selector)
    row = button.find_element(By.XPATH, "./ancestor::li")
    event_id = row.get_attribute("data-event-id")
    button.click()
    done = f'#events li[data-event-id="{event_id}"].acknowledged .acked'
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, done), PAGE_TIMEOUT_S, "the row acknowledged")
    save(driver, screenshots, "13-acknowledged")
    driver.refresh()
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, done), PAGE_TIMEOUT_S, "still acknowledged after reload")
    text = wait_until(
        lambda: driver.find_element(By.CSS_SELECTOR, done).text, PAGE_TIMEOUT_S, "its text", tolerate_errors=True
    )
    assert "operator" in text and "Đã xác nhận" in text, f"who acknowledged it, in Vietnamese: {text}"
    assert real.writer is not None
    acks = real.loop_thread.run(real.writer.acknowledgements((event_id,)), 30)
    assert acks[event_id].by == "operator", f"persisted in the event store: {acks}"
    lines = [r for r in real.records.of("call", "WebAcknowledge") if r.get("event_id") == event_id]
    assert lines and lines[0]["who"] == "operator", f"in the access log: {lines}"
    assert not page_errors(driver), f"the page logged errors: {page_errors(driver)}"


def test_the_search_page_finds_the_crossing_and_its_csv_has_the_row(real, driver, screenshots) -> None:
    wait_until(real.stored, EVENT_TIMEOUT_S, "a line crossing stored by the writer", poll_s=1.0)
    wanted = real.stored()[0]
    log_in(driver, real.url, "operator")
    driver.get(real.url + "search")
    wait_until(lambda: driver.find_elements(By.ID, "search-form"), PAGE_TIMEOUT_S, "the search form")
    wait_until(
        lambda: len(driver.find_elements(By.CSS_SELECTOR, "#search-camera option")) > 1,
        PAGE_TIMEOUT_S,
        "the camera list in the form",
    )
    driver.find_element(By.CSS_SELECTOR, f'#search-camera option[value="{CAMERA[0]}"]').click()
    driver.find_element(By.CSS_SELECTOR, '#search-type option[value="line_crossing"]').click()
    driver.find_element(By.ID, "search-submit").click()
    card = f'#search-results .result[data-event-id="{wanted.event_id}"]'
    # The results re-render while they load (thumbnails, acknowledgements): a card read
    # mid-render is stale, so poll its text.
    text = wait_until(
        lambda: driver.find_element(By.CSS_SELECTOR, card).text,
        PAGE_TIMEOUT_S,
        "the crossing in the results",
        tolerate_errors=True,
    )
    assert "Đường lớn Lê Lợi" in text and "Vượt vạch" in text, f"the card describes it: {text}"
    save(driver, screenshots, "14-search")
    href = driver.find_element(By.ID, "search-csv").get_attribute("href")
    assert "camera=duong-lon" in href and "type=line_crossing" in href, f"the CSV link carries the filter: {href}"
    reply = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(async r => done({status: r.status, type: r.headers.get('content-type'),"
        " text: await r.text()}), e => done({status: 0, text: String(e)}));",
        href,
    )
    assert reply["status"] == 200 and reply["type"].startswith("text/csv"), reply["status"]
    rows = [line.split(",") for line in reply["text"].splitlines()[1:]]
    assert any(row[0] == wanted.event_id and row[1] == CAMERA[0] for row in rows), "the CSV has the crossing's row"
    assert all(row[2] == "line_crossing" for row in rows), "and only line crossings"
    assert not page_errors(driver), f"the page logged errors: {page_errors(driver)}"


def test_the_one_camera_view_draws_its_line(real, driver, screenshots) -> None:
    log_in(driver, real.url, "operator")
    driver.get(real.url + f"camera/{CAMERA[0]}")
    line = '#camera-shapes line.line[data-name="vach-giua"]'
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, line), PAGE_TIMEOUT_S, "the line drawn over the picture")
    wait_until(
        lambda: int(driver.find_element(By.ID, "large").get_attribute("data-frames") or 0) >= 2,
        PAGE_TIMEOUT_S,
        "frames",
    )
    y1 = float(driver.find_element(By.CSS_SELECTOR, line).get_attribute("y1"))
    height = int(driver.find_element(By.ID, "large").get_attribute("height"))
    assert abs(y1 - 0.5 * height) < 1.0, f"at half the frame's height ({y1} of {height})"
    save(driver, screenshots, "15-camera-line")
    assert driver.find_elements(By.ID, "edit-zones"), "operators get the editor's link"


def test_the_editor_saves_a_zone_that_the_camera_then_applies(real, driver, screenshots) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    log_in(driver, real.url, "operator")
    driver.get(real.url + f"editor/{CAMERA[0]}")
    wait_until(
        lambda: driver.execute_script(
            "const i = document.getElementById('editor-snapshot'); return i && i.naturalWidth;"
        ),
        PAGE_TIMEOUT_S,
        "the snapshot to draw on",
    )
    driver.find_element(By.ID, "kind-zone").click()
    overlay = driver.find_element(By.ID, "editor-shapes")
    width, height = overlay.size["width"], overlay.size["height"]
    for fx, fy in ((0.05, 0.3), (0.95, 0.3), (0.95, 0.95), (0.05, 0.95)):  # the road, most of the view
        ActionChains(driver).move_to_element_with_offset(
            overlay, int((fx - 0.5) * width), int((fy - 0.5) * height)
        ).click().perform()
    driver.find_element(By.ID, "editor-finish").click()
    name = driver.find_element(By.CSS_SELECTOR, 'input.shape-name[data-kind="zone"]')
    assert name.get_attribute("value") == "vung-1", "a new zone gets a name to edit"
    name.clear()
    name.send_keys("vung-duong\n")
    driver.find_element(By.ID, "editor-save").click()
    wait_until(
        lambda: "ok" in (driver.find_element(By.ID, "editor-message").get_attribute("class") or ""),
        PAGE_TIMEOUT_S,
        lambda: f"saved; message: {driver.find_element(By.ID, 'editor-message').text}",
    )
    save(driver, screenshots, "16-editor-saved")
    assert real.serve_path is not None
    config = real.loop_thread.run(real.serve_path.client.get_camera(CAMERA[0])).config
    assert [z.name for z in config.rules.zones] == ["vung-duong"], f"the camera's config has the zone: {config.rules}"
    [zone] = config.rules.zones
    xs, ys = [p[0] for p in zone.polygon], [p[1] for p in zone.polygon]
    assert abs(min(xs) - 0.05) < 0.02 and abs(max(ys) - 0.95) < 0.02, f"where it was drawn: {zone.polygon}"
    assert [ln.name for ln in config.rules.lines] == ["vach-giua"], "the line is kept"
    assert real.writer is not None

    def zone_events() -> list:
        page = real.loop_thread.run(
            real.writer.query(EventFilter(rules={"vung-duong"}), order=Order.NEWEST_FIRST, page_size=10, cursor=None),
            30,
        )
        return list(page.events)

    wait_until(zone_events, START_TIMEOUT_S, "events of the new zone, from the camera applying it", poll_s=1.0)
    assert not page_errors(driver), f"the page logged errors: {page_errors(driver)}"
