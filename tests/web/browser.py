"""Debian's Chromium, headless, driven by Selenium through Debian's chromedriver.

Nothing is downloaded: the driver's path is given, so Selenium Manager never runs
(`start_browser` makes sure of it), and Chromium starts with background networking,
component updates and sync off (the closed network here refuses those connections).
A missing browser or driver fails the test; it is never a skip.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common import selenium_manager
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--lang=vi",
)


def _no_selenium_manager(*args: object, **kwargs: object) -> dict:
    raise AssertionError("Selenium Manager must not run (it would download a driver): give the driver's path")


@contextlib.contextmanager
def start_browser(user_data_dir: Path) -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's chromium and chromium-driver (make test-debs)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(selenium_manager.SeleniumManager, "binary_paths", _no_selenium_manager)
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: WebDriver) -> list[str]:
    """Errors the page logged (CSP violations, script errors, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def element_image(driver: WebDriver, selector: str) -> np.ndarray:
    """A screenshot of one element, decoded (BGR)."""
    png = driver.find_element(By.CSS_SELECTOR, selector).screenshot_as_png
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"no screenshot of {selector}"
    return image


def changed_fraction(a: np.ndarray, b: np.ndarray, threshold: int = 24) -> float:
    """Share of pixels that differ by more than `threshold` in some channel."""
    if a.shape != b.shape:
        b = cv2.resize(b, (a.shape[1], a.shape[0]))
    return float((cv2.absdiff(a, b).max(axis=2) > threshold).mean())
