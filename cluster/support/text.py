"""Echoing untrusted text back safely: bounded, and with no way to forge a line.

A client's camera id may be a megabyte or carry a newline. Errors and logs that
quote it must stay one short line (gRPC metadata limits, log readers), so every
echo goes through `shown`.
"""

from __future__ import annotations

import unicodedata

ECHO_LIMIT = 64  # characters of client input quoted in an error or a log line


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """`repr` of `value` cut to `limit` characters (with the full length said when cut).

    `repr` escapes newlines and other control characters, so the result is one line.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[: limit + 2] + "..."


def control_characters(value: str) -> list[str]:
    """The control characters (C0, DEL, C1, line and paragraph separators) in `value`, each shown escaped."""
    found = []
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") and char not in found:
            found.append(char)
    return [repr(char)[1:-1] for char in found]
