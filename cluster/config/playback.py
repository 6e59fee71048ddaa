"""The web console's player (`server.web.playback`): footage around an event, masked."""

from __future__ import annotations

from pydantic import Field

from .base import StrictModel


class PlaybackConfig(StrictModel):
    """Recorded footage in the console. What a browser plays is always the privacy-masked
    re-encode (H.264 MP4, the export's code path), rendered in windows of `window_s` aligned
    to the clock and kept in a small cache; the player moves from one window to the next."""

    pre_event_s: float = Field(
        10.0, ge=0.0, le=300.0, description="Playing an event starts this long before it (the page can change it)."
    )
    window_s: float = Field(
        30.0,
        ge=5.0,
        le=300.0,
        description="Length of one rendered window of footage (the bound on one re-encode); windows start at "
        "multiples of it, so viewers of the same moment share them.",
    )
    cache_windows: int = Field(
        16, ge=1, le=1024, description="Rendered windows kept (oldest used first out); each is a few MB of MP4."
    )
    max_concurrent_renders: int = Field(
        1, ge=1, le=16, description="Windows re-encoded at once (each takes about one core while it runs)."
    )
    max_waiting_renders: int = Field(
        8,
        ge=0,
        le=256,
        description="Windows waiting for a render beyond those running; more get 503 with Retry-After.",
    )
    timeline_s: float = Field(
        3600.0, ge=60.0, le=7 * 86400.0, description="The camera view's timeline shows this long before now."
    )
