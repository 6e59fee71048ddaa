"""The gRPC front door: where it listens, TLS, who may call it, and its limits."""

from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .playback import PlaybackConfig

TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"


class Role(str, Enum):
    """Ordered: each role may do everything the lower ones may (see `at_least`)."""

    VIEWER = "viewer"  # list/get cameras, snapshots, frame and detection streams
    OPERATOR = "operator"  # + add/update/remove cameras, cluster status
    ADMIN = "admin"  # + cluster administration (drain nodes)

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value


_ROLE_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


def _lowercase(v: object) -> object:
    return v.lower() if isinstance(v, str) else v


class TokenConfig(StrictModel):
    """One API token. Only its SHA-256 is stored: `matthan token new` (or
    `python -c "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" TOKEN`)."""

    name: str = Field(
        ..., pattern=TOKEN_NAME_PATTERN, description="Who holds it; shown in the access log instead of the token."
    )
    sha256: str = Field(..., pattern=SHA256_HEX_PATTERN, description="Lowercase hex SHA-256 of the token.")
    role: Role = Field(Role.VIEWER, description="viewer, operator or admin.")
    cameras: list[str] = Field(default_factory=list, description="Viewer scope: camera ids it may see.")
    groups: list[str] = Field(default_factory=list, description="Viewer scope: camera groups it may see.")
    all_cameras: bool = Field(False, description="Viewer scope: every camera (must be explicit).")

    @field_validator("role", "sha256", mode="before")
    @classmethod
    def _case(cls, v: object) -> object:
        return _lowercase(v)

    @model_validator(mode="after")
    def _scope(self) -> TokenConfig:
        scoped = bool(self.cameras or self.groups)
        if self.role is Role.VIEWER and not scoped and not self.all_cameras:
            raise ValueError(f"viewer token {self.name!r} needs cameras, groups or all_cameras: true")
        if self.role is not Role.VIEWER and scoped:
            raise ValueError(
                f"token {self.name!r}: cameras/groups scope applies to viewers only ({self.role} sees all)"
            )
        if scoped and self.all_cameras:
            raise ValueError(f"token {self.name!r}: all_cameras cannot be combined with cameras/groups")
        return self

    @property
    def is_scoped(self) -> bool:
        return self.role is Role.VIEWER and not self.all_cameras


class TlsConfig(StrictModel):
    """Server certificate, and client certificates (mTLS) when client_ca_file is set."""

    cert_file: Path = Field(..., description="PEM certificate chain of the server.")
    key_file: Path = Field(..., description="PEM private key of the server.")
    client_ca_file: Path | None = Field(None, description="PEM CA bundle that client certificates must chain to.")
    require_client_cert: bool = Field(
        True, description="With client_ca_file: refuse clients without a valid certificate (mTLS)."
    )


class KeepaliveConfig(StrictModel):
    """HTTP/2 keepalive. The server pings idle connections so it notices vanished
    clients (NAT timeouts, pulled cables) and frees their streams; clients may ping
    too, but not more often than min_client_ping_interval_s (else GOAWAY)."""

    time_s: float = Field(30.0, ge=1.0, le=3600.0, description="Ping a connection after this long without activity.")
    timeout_s: float = Field(10.0, ge=1.0, le=600.0, description="Close it if the ping is not answered in this time.")
    permit_without_calls: bool = Field(True, description="Ping connections that have no RPC open too.")
    min_client_ping_interval_s: float = Field(
        10.0, ge=1.0, le=3600.0, description="Clients pinging more often than this are cut off (ping flood)."
    )
    max_connection_idle_s: float | None = Field(
        None, gt=0, le=86400.0, description="Close connections idle (no RPC) this long; None: never."
    )


class LimitsConfig(StrictModel):
    """Message sizes and per-client buffers; they bound server memory per client."""

    max_receive_message_bytes: int = Field(
        1 << 20,
        ge=4096,
        le=64 << 20,
        description="Largest request message accepted; requests are small (camera specs). "
        "Larger is refused with RESOURCE_EXHAUSTED before it is parsed.",
    )
    max_metadata_bytes: int = Field(
        8192,
        ge=1024,
        le=1 << 20,
        description="Largest request metadata (headers: the bearer token, deadlines) accepted; "
        "larger is refused with RESOURCE_EXHAUSTED before any work.",
    )
    max_send_message_bytes: int = Field(
        8 << 20, ge=65536, le=64 << 20, description="Largest response; a 4K JPEG at high quality fits."
    )
    frame_queue_size: int = Field(
        2, ge=1, le=64, description="Frames buffered per frame stream; when full the oldest is dropped."
    )
    detection_queue_size: int = Field(
        256, ge=4, le=65536, description="Batches buffered per detection stream; when full the stream is cut off."
    )
    max_concurrent_streams: int = Field(
        1000, ge=1, le=100_000, description="HTTP/2 streams per connection (grpc.max_concurrent_streams)."
    )
    snapshot_timeout_s: float = Field(5.0, gt=0, le=60.0, description="Wait at most this long for a snapshot frame.")
    stuck_write_timeout_s: float = Field(
        60.0, gt=0, le=3600.0, description="End a stream whose client accepts no data for this long."
    )


class WebConfig(StrictModel):
    """The duty-room web console (`server.web`): HTTP pages and one WebSocket per page, served
    by the front door beside the gRPC gateway, with the same tokens, roles and camera scopes.
    It uses `server.tls` when that is set (Secure cookies then); without TLS it binds beyond
    loopback only with `allow_plaintext`."""

    host: str = Field("127.0.0.1", min_length=1, max_length=253, description="Address to bind; '0.0.0.0' for all.")
    port: int = Field(8480, ge=0, le=65535, description="TCP port of the console; 0 picks a free one (tests).")
    allow_plaintext: bool = Field(
        False, description="Allow a non-loopback bind without server.tls (TLS terminated by a proxy)."
    )
    session_idle_s: float = Field(
        3600.0, ge=60.0, le=7 * 86400.0, description="A session unused this long ends; an open page keeps it in use."
    )
    session_max_age_s: float = Field(
        43200.0, ge=300.0, le=30 * 86400.0, description="A session ends this long after login however it is used."
    )
    max_sessions: int = Field(
        1000, ge=1, le=100_000, description="Sessions kept at once; a new login beyond it ends the oldest session."
    )
    login_failures_allowed: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins per client address within login_failure_window_s; "
        "further logins from it get 429 until the oldest failure is older than the window.",
    )
    login_failure_window_s: float = Field(
        300.0, ge=1.0, le=86400.0, description="The window in which failed logins are counted."
    )
    tile_fps: float = Field(1.0, gt=0.0, le=5.0, description="Frames per second of a video wall tile.")
    tile_width: int = Field(480, ge=64, le=1920, description="Largest width of a wall tile's JPEG, in pixels.")
    large_fps: float = Field(5.0, gt=0.0, le=30.0, description="Frames per second of the one-camera view.")
    large_width: int = Field(
        1280, ge=64, le=7680, description="Largest width of the one-camera view's JPEG, in pixels."
    )
    status_refresh_s: float = Field(
        2.0, ge=0.2, le=60.0, description="Camera states are read this often; one listing serves every page."
    )
    socket_window: int = Field(
        16,
        ge=1,
        le=1024,
        description="Messages a page's WebSocket has in flight before the browser acknowledges them; "
        "newer frames replace unsent ones, so a slow browser never builds a backlog.",
    )
    max_subscriptions_per_socket: int = Field(
        300, ge=1, le=10_000, description="Channels (tiles, overlays, status) one WebSocket may open."
    )
    max_sockets_per_session: int = Field(
        8, ge=1, le=256, description="WebSockets (open pages) one session may have at once."
    )
    max_request_bytes: int = Field(
        16384, ge=1024, le=1 << 20, description="Largest HTTP request body or WebSocket message accepted."
    )
    stuck_timeout_s: float = Field(
        60.0,
        gt=0.0,
        le=3600.0,
        description="Close a WebSocket whose browser accepts or acknowledges nothing this long.",
    )
    playback: PlaybackConfig = Field(
        default_factory=PlaybackConfig, description="Recorded footage in the console: the player and its cache."
    )


class ServerConfig(StrictModel):
    """`server:` section of cameras.yaml."""

    host: str = Field("127.0.0.1", min_length=1, max_length=253, description="Address to bind; '0.0.0.0' for all.")
    port: int = Field(50051, ge=0, le=65535, description="TCP port; 0 picks a free one (tests).")
    tls: TlsConfig | None = Field(None, description="TLS; required to bind beyond loopback unless allow_plaintext.")
    allow_plaintext: bool = Field(
        False, description="Allow a non-loopback bind without TLS (TLS terminated by a mesh or proxy)."
    )
    tokens: list[TokenConfig] = Field(default_factory=list, description="API tokens (hashed).")
    allow_unauthenticated: bool = Field(
        False, description="Loopback only: callers without a token get unauthenticated_role (development)."
    )
    unauthenticated_role: Role = Field(Role.ADMIN, description="Role of token-less callers when allowed.")
    keepalive: KeepaliveConfig = Field(default_factory=KeepaliveConfig, description="HTTP/2 keepalive.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Message sizes and queues.")
    grace_period_s: float = Field(
        5.0, ge=0.0, le=300.0, description="On shutdown, unary calls get this long to finish."
    )
    shutdown_drain_s: float = Field(
        0.0,
        ge=0.0,
        le=120.0,
        description="On shutdown, keep serving this long after health turns NOT_SERVING, "
        "so probes and load balancers notice before streams are ended.",
    )
    camera_refresh_s: float = Field(
        5.0,
        gt=0.0,
        le=300.0,
        description="Open streams re-check camera access (groups changed) and all-camera detection streams "
        "pick up added cameras this often; one camera listing serves all streams.",
    )
    web: WebConfig | None = Field(None, description="The duty-room web console; None runs none.")
    control_read_deadline_s: float = Field(
        3.0,
        gt=0.0,
        le=60.0,
        description="Wait this long for the scheduler to answer a read; then serve its last known view (with its "
        "age in the `matthan-view-age-s` trailer) and refuse writes with UNAVAILABLE, nothing changed.",
    )
    file_roots: list[Path] = Field(
        default_factory=list,
        max_length=64,
        description="Directories whose files API callers may name (file sources, detector files, batch inputs); "
        "symlinks are resolved first. Empty: `matthan serve` allows only runtime.state_dir.",
    )

    @field_validator("unauthenticated_role", mode="before")
    @classmethod
    def _case(cls, v: object) -> object:
        return _lowercase(v)

    @model_validator(mode="after")
    def _safe(self) -> ServerConfig:
        loopback = is_loopback(self.host)
        if not self.tokens and not self.allow_unauthenticated:
            raise ValueError(
                "no tokens configured: add server.tokens, or set allow_unauthenticated: true (loopback only)"
            )
        if self.allow_unauthenticated and not loopback:
            raise ValueError(f"allow_unauthenticated is only allowed on a loopback host, not {self.host!r}")
        if not loopback and self.tls is None and not self.allow_plaintext:
            raise ValueError(
                f"binding {self.host!r} without TLS would send tokens in clear text: "
                "configure server.tls or set allow_plaintext: true"
            )
        names = [t.name for t in self.tokens]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate token names: {', '.join(duplicates)}")
        hashes = [t.sha256 for t in self.tokens]
        if len(set(hashes)) != len(hashes):
            raise ValueError("two tokens have the same sha256")
        if self.web is not None:
            self._check_web(self.web)
        return self

    def _check_web(self, web: WebConfig) -> None:
        web_loopback = is_loopback(web.host)
        if self.allow_unauthenticated and not web_loopback:
            raise ValueError(f"allow_unauthenticated is only allowed on a loopback host, not web.host {web.host!r}")
        if not web_loopback and self.tls is None and not web.allow_plaintext:
            raise ValueError(
                f"the web console on {web.host!r} without TLS would send tokens and session cookies in clear text: "
                "configure server.tls or set web.allow_plaintext: true"
            )
        if web.port and web.port == self.port and web.host == self.host:
            raise ValueError(f"web.port {web.port} is the gRPC port: pick another")
        if web.session_max_age_s < web.session_idle_s:
            raise ValueError("web.session_max_age_s must not be shorter than web.session_idle_s")

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
