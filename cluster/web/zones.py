"""A camera's zones, lines and privacy masks as the console draws and edits them.

    GET  /api/cameras/{id}/zones   {"zones": [...], "lines": [...], "masks": [...] | null}
    POST /api/cameras/{id}/zones   the same shape (operator): saved through UpdateCamera's path

Shapes are in the config's normalised coordinates (0..1, y down). Privacy masks are
only sent to operators and admins (a viewer sees the masked picture, not where the
masks are).

A save replaces the camera's zone and line *geometry* and its masks; every other
setting of a rule (filters, loitering, occupancy, anchor, directions...) stays as it
is for a rule of the same name, and a new rule takes the defaults. The merged config
is validated as the gateway validates UpdateCamera (`CameraConfig`, errors named by
field: `rules.zones.0.polygon: ...`) and applied with `control.update_camera`, so
the camera applies it live.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from ..config import CameraConfig
from ..contract import RequestError
from ..contract.convert import validation_error_to_request_error

_ZONE_FIELDS = {"name", "polygon", "severity"}
_LINE_FIELDS = {"name", "start", "end", "severity", "a_side"}
_BODY_FIELDS = {"zones", "lines", "masks"}


def geometry_of(config: CameraConfig, *, with_masks: bool) -> dict:
    rules = config.rules
    return {
        "camera": config.id,
        "zones": [
            {"name": z.name, "polygon": [list(p) for p in z.polygon], "severity": z.severity} for z in rules.zones
        ],
        "lines": [
            {
                "name": line.name,
                "start": list(line.start),
                "end": list(line.end),
                "a_side": line.a_side,
                "severity": line.severity,
            }
            for line in rules.lines
        ],
        "masks": [[list(p) for p in mask] for mask in config.privacy.masks] if with_masks else None,
    }


def _list(body: dict, name: str) -> list | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, list):
        raise RequestError(name, f"must be a list, got {type(value).__name__}")
    return value


def _shapes(given: list, old: list[dict], allowed: set[str], what: str) -> list[dict]:
    """Each given shape over the stored rule of the same name (its other settings kept)."""
    by_name = {rule["name"]: rule for rule in old}
    out = []
    for i, shape in enumerate(given):
        if not isinstance(shape, dict):
            raise RequestError(f"{what}[{i}]", f"must be an object, got {type(shape).__name__}")
        unknown = sorted(set(shape) - allowed)
        if unknown:
            raise RequestError(
                f"{what}[{i}]", f"unknown field {unknown[0][:40]!r} (allowed: {', '.join(sorted(allowed))})"
            )
        name = shape.get("name")
        merged = copy.deepcopy(by_name.get(name, {})) if isinstance(name, str) else {}
        merged.update(shape)
        out.append(merged)
    return out


def apply_geometry(current: CameraConfig, body: Any) -> CameraConfig:
    """`current` with the zones, lines and masks of `body`; RequestError naming the field."""
    if not isinstance(body, dict):
        raise RequestError("body", "must be a JSON object")
    unknown = sorted(set(body) - _BODY_FIELDS)
    if unknown:
        raise RequestError(unknown[0][:40], "unknown field (allowed: zones, lines, masks)")
    merged = current.model_dump(mode="json")
    rules = merged.setdefault("rules", {})
    zones, lines, masks = _list(body, "zones"), _list(body, "lines"), _list(body, "masks")
    if zones is not None:
        rules["zones"] = _shapes(zones, rules.get("zones", []), _ZONE_FIELDS, "zones")
    if lines is not None:
        rules["lines"] = _shapes(lines, rules.get("lines", []), _LINE_FIELDS, "lines")
    if masks is not None:
        merged.setdefault("privacy", {})["masks"] = masks
    try:
        return CameraConfig.model_validate(merged)
    except ValidationError as exc:
        raise validation_error_to_request_error(exc) from None
