"""Bearer-token authentication and per-camera authorization.

Tokens are configured as SHA-256 hex digests (`ServerConfig.tokens`); a caller
sends `authorization: Bearer <token>` metadata. The token itself is never stored,
logged or echoed: principals carry the token's *name*.

Lookup is a dict keyed by the digest of the presented token. That is not a
timing side channel worth closing: an attacker cannot choose the digest, so
timing tells nothing about configured tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from ..config import CameraConfig
from ..config.server import Role, ServerConfig

AUTHORIZATION_KEY = "authorization"


class AuthError(Exception):
    """UNAUTHENTICATED or PERMISSION_DENIED, with a message safe to send to the caller."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def hash_token(token: str) -> str:
    """The value to put in `server.tokens[].sha256` for this token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    """A new random token (256 bits, URL-safe) for `matthan token new`."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `name` is the token's configured name (or 'anonymous')."""

    name: str
    role: Role
    cameras: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    scoped: bool = False  # False: every camera

    def may(self, role: Role) -> bool:
        return self.role.at_least(role)

    def require(self, role: Role, method: str) -> None:
        if not self.may(role):
            raise AuthError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"token {self.name!r} ({self.role}) may not call {method}: it needs the {role} role",
            )

    def sees_by_id(self, camera_id: str) -> bool:
        return not self.scoped or camera_id in self.cameras

    def sees(self, camera: CameraConfig) -> bool:
        return not self.scoped or camera.id in self.cameras or not self.groups.isdisjoint(camera.groups)

    def camera_denied(self, camera_id: str) -> AuthError:
        # The same answer for existing and unknown cameras: a scoped token cannot probe ids.
        return AuthError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"camera {camera_id!r} is not among the cameras token {self.name!r} may see",
        )

    @property
    def redact_secrets(self) -> bool:
        """Viewers get source URLs without passwords."""
        return not self.may(Role.OPERATOR)


class Authenticator:
    def __init__(self, config: ServerConfig):
        self._by_digest = {
            t.sha256: Principal(
                name=t.name,
                role=t.role,
                cameras=frozenset(t.cameras),
                groups=frozenset(t.groups),
                scoped=t.is_scoped,
            )
            for t in config.tokens
        }
        self._anonymous = (
            Principal(name="anonymous", role=config.unauthenticated_role) if config.allow_unauthenticated else None
        )

    def authenticate(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Principal:
        """The caller of a request with this invocation metadata; raises AuthError(UNAUTHENTICATED)."""
        values = [v for k, v in (metadata or ()) if k.lower() == AUTHORIZATION_KEY]
        if not values:
            if self._anonymous is not None:
                return self._anonymous
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata")
        if len(values) > 1:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "more than one 'authorization' metadata entry")
        value = values[0]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED, "malformed 'authorization' metadata: expected 'Bearer <token>'"
            )
        principal = self._by_digest.get(hash_token(token))
        if principal is None:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked token")
        return principal
