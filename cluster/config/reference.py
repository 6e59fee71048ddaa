"""Renders docs/configuration.md from the config models, so the reference cannot drift.

python -m cluster.config.reference > docs/configuration.md
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from pathlib import PurePath

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .root import MatthanConfig

HEADER = """# Configuration reference

Generated from the models in `cluster/config/` by `python -m cluster.config.reference`; a test
fails when this file is stale. A config file is YAML; unknown keys and out-of-range values are
errors that name the key and the reason (`matthan config check FILE`).
"""


def _nested_models(annotation) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in typing.get_args(annotation):
        found.extend(_nested_models(arg))
    return found


def _type_name(annotation) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or re.sub(r"\b[\w.]+\.(\w+)", r"\1", str(annotation))
    return text.replace("|", "or").replace("NoneType", "None")


def _bounds(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for attr, sym in (
            ("gt", ">"),
            ("ge", ">="),
            ("lt", "<"),
            ("le", "<="),
            ("min_length", "len >="),
            ("max_length", "len <="),
        ):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.get_default(call_default_factory=True, validated_data={})
        return "(see section)" if isinstance(value, BaseModel) else f"`{value!r}`"
    value = str(info.default) if isinstance(info.default, PurePath) else info.default
    return f"`{value!r}`"


def render() -> str:
    out = [HEADER]
    seen: set[type] = set()
    queue: list[tuple[str, type[BaseModel]]] = [("(top level)", MatthanConfig)]
    while queue:
        path, model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        out.append(f"\n## `{path}` — {model.__name__}\n\n{inspect.cleandoc(model.__doc__ or '')}\n")
        out.append("| key | type | default | bounds | description |\n| --- | --- | --- | --- | --- |")
        for name, info in model.model_fields.items():
            out.append(
                f"| `{name}` | {_type_name(info.annotation)} | {_default(info)} | {_bounds(info)} | "
                f"{info.description or ''} |"
            )
            for nested in _nested_models(info.annotation):
                prefix = "" if path == "(top level)" else f"{path}."
                suffix = "[]" if typing.get_origin(info.annotation) is list else ""
                queue.append((f"{prefix}{name}{suffix}", nested))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
