"""Where a camera's frames come from and how patiently we talk to it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote_plus, urlsplit

from pydantic import Field, field_validator, model_validator

from cluster.support.text import control_characters

from .base import StrictModel

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
SUPPORTED_SCHEMES = (*NETWORK_SCHEMES, "file")


class ReconnectConfig(StrictModel):
    """Exponential backoff with jitter between attempts to (re)open a source."""

    initial_s: float = Field(0.5, gt=0, le=60, description="Delay before the first retry, seconds.")
    max_s: float = Field(30.0, gt=0, le=600, description="Upper bound of the delay, seconds.")
    multiplier: float = Field(2.0, ge=1.0, le=10.0, description="Growth factor per consecutive failure.")
    jitter: float = Field(0.2, ge=0.0, le=1.0, description="Random +/- fraction applied to each delay.")

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> ReconnectConfig:
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s ({self.max_s}) must be >= initial_s ({self.initial_s})")
        return self


class SourceConfig(StrictModel):
    """A camera stream: rtsp(s)://, http(s):// MJPEG, or a video file path / file:// URL."""

    url: str = Field(..., min_length=1, max_length=2048, description="Stream URL or video file path.")
    rtsp_transport: Literal["tcp", "udp"] = Field(
        "tcp", description="RTSP lower transport; TCP survives NAT and packet loss better."
    )
    open_timeout_s: float = Field(10.0, gt=0, le=120, description="Give up opening the source after this.")
    read_timeout_s: float = Field(5.0, gt=0, le=120, description="Give up one read after this.")
    stall_timeout_s: float = Field(
        5.0, gt=0, le=600, description="Connected but no frame for this long: the stream is stalled."
    )
    loop: bool = Field(False, description="Files only: start again at the end (demos, tests).")
    realtime: bool = Field(True, description="Files only: play at the file's own frame rate, like a camera.")
    decode_threads: int = Field(
        1, ge=0, le=64, description="FFmpeg decoder threads; 0 lets FFmpeg choose (one per core)."
    )
    skip_loop_filter: Literal["none", "noref", "all"] = Field(
        "none",
        description="Decode shortcut: H.264/H.265 frames decoded without the deblocking filter. `all` decodes "
        "about 1.4x faster (the 768x432 demo clip, `bench.decode_options`) at the price of blocking artefacts "
        "in the live view, thumbnails and analysis, growing until the next keyframe; `noref` skips it only on "
        "frames no other frame refers to (no artefact spreads; saves nothing on streams without B-frames). "
        "Recordings copy the stream and are never affected.",
    )
    reconnect: ReconnectConfig = Field(default_factory=ReconnectConfig, description="Retry policy.")

    @field_validator("url")
    @classmethod
    def _url_is_supported(cls, url: str) -> str:
        controls = control_characters(url)
        url = url.strip(" ")
        if controls:
            # CR/LF in a URL splits RTSP and HTTP requests (header injection) and log lines
            raise ValueError(f"source URL {redact_url(url)!r} contains control characters ({', '.join(controls)})")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):
            return url  # a path; existence is checked when the camera opens it
        if scheme not in SUPPORTED_SCHEMES:
            raise ValueError(
                f"unsupported URL scheme {scheme!r} in {redact_url(url)!r}; "
                f"expected one of {', '.join(SUPPORTED_SCHEMES)} or a file path"
            )
        if not parts.hostname:
            raise ValueError(f"URL {redact_url(url)!r} has no host")
        problem = host_name_problem(parts.hostname)
        if problem:
            raise ValueError(f"URL {redact_url(url)!r}: {problem}")
        if " " in parts.netloc:
            raise ValueError(f"URL {redact_url(url)!r} has a space in its host part")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError(f"URL {redact_url(url)!r} has a bad port: {exc}") from None
        return url

    @property
    def scheme(self) -> str:
        scheme = urlsplit(self.url).scheme.lower()
        return scheme if scheme in NETWORK_SCHEMES else "file"

    @property
    def is_file(self) -> bool:
        return self.scheme == "file"

    @property
    def file_path(self) -> Path:
        if not self.is_file:
            raise ValueError(f"{redact_url(self.url)} is not a file source")
        parts = urlsplit(self.url)
        return Path(parts.path) if parts.scheme.lower() == "file" else Path(self.url)


MAX_HOST_NAME = 253  # DNS: a whole name
MAX_HOST_LABEL = 63  # DNS: one dot-separated part of it


def host_name_problem(host: str) -> str | None:
    """What makes `host` (a URL's host, brackets of an IPv6 literal removed) impossible to
    resolve, or None: DNS bounds a name to 253 characters and each label to 63, so a
    longer one can only be a mistake, and it would be echoed in every error and log line."""
    if ":" in host:  # an IPv6 literal
        return None
    if len(host) > MAX_HOST_NAME:
        return f"the host name is {len(host)} characters long; DNS allows at most {MAX_HOST_NAME}"
    longest = max(host.split("."), key=len)
    if len(longest) > MAX_HOST_LABEL:
        return f"a label of the host name is {len(longest)} characters long; DNS allows at most {MAX_HOST_LABEL}"
    return None


# Query parameters that carry credentials in camera URLs (vendor CGI and token schemes).
SECRET_QUERY_WORDS = ("pass", "pwd", "secret", "token", "key", "auth", "sig", "credential", "session")


def is_secret_query_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_QUERY_WORDS)


def redact_url(url: str) -> str:
    """The URL with every credential masked, safe for viewers, logs and error messages.

    Masked: the password of `user:pass@`, a user-only secret (`rtsp://token@host`:
    a lone user part is often a key), and the values of query parameters whose name
    says they are secret (`?password=`, `?token=`, `?api_key=`...). Raises
    ValueError for a URL too broken to parse.
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
        netloc = f"{user}:***@{host}" if user else f"***@{host}"
    query = "&".join(_masked_piece(piece) for piece in parts.query.split("&")) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return url
    return parts._replace(netloc=netloc, query=query).geturl()


def _masked_piece(piece: str) -> str:
    name = unquote_plus(piece.split("=", 1)[0])
    return f"{piece.split('=', 1)[0]}=***" if is_secret_query_name(name) else piece
