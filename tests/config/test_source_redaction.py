"""Every form of credential in a camera URL is masked before a viewer, a log or an error sees it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluster.config import SourceConfig, redact_url

MASKED = {
    "rtsp://admin:hunter2@cam.local/s": "rtsp://admin:***@cam.local/s",
    "rtsp://hunter2@cam.local/s": "rtsp://***@cam.local/s",
    "rtsp://admin:@cam.local/s": "rtsp://admin:***@cam.local/s",
    "http://cam.local/cgi?user=admin&password=hunter2&ch=1": "http://cam.local/cgi?user=admin&password=***&ch=1",
    "http://cam.local/cgi?USER=admin&PWD=hunter2": "http://cam.local/cgi?USER=admin&PWD=***",
    "https://cam.local/live?access_token=hunter2": "https://cam.local/live?access_token=***",
    "https://cam.local/live?api_key=hunter2&flag": "https://cam.local/live?api_key=***&flag",
    "http://cam.local/x?p%61ss=hunter2": "http://cam.local/x?p%61ss=***",
}


@pytest.mark.parametrize("url", sorted(MASKED))
def test_credentials_are_masked(url: str) -> None:
    assert redact_url(url) == MASKED[url]


@pytest.mark.parametrize("url", ["rtsp://cam.local:554/s?channel=1&subtype=0", "/srv/media/alley.mp4"])
def test_urls_without_credentials_are_unchanged(url: str) -> None:
    assert redact_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["rtsp://cam.local/s\r\nX-Injected: 1", "rtsp://cam.local/s\n", "rtsp://cam.local/\x00s", "/srv/a\nb.mp4"],
)
def test_urls_with_control_characters_are_refused_at_admission(url: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        SourceConfig(url=url)


def test_the_refusal_does_not_echo_the_password() -> None:
    with pytest.raises(ValidationError) as caught:
        SourceConfig(url="rtsp://admin:hunter2@cam.local/s\r\n")

    assert "hunter2" not in str(caught.value), str(caught.value)
