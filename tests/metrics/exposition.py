"""Checks of a Prometheus text exposition against our conventions and definitions,
using prometheus_client's own parser. Shared by the unit and the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client.parser import text_string_to_metric_families

from cluster.metrics import definitions as d

HISTOGRAM_UNITS = ("_seconds", "_bytes")
UNIT_WORDS = {"seconds": "_seconds", "bytes": "_bytes", "ratio": "_ratio", "cores": "_cores"}


def families(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _definition_for(family) -> d.MetricDef | None:
    name = family.name + "_total" if family.type == "counter" else family.name
    return d.BY_NAME.get(name)


def convention_problems(text: str, bounded_values: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """Everything in `text` that breaks a naming or labelling rule; [] when all is well.

    `bounded_values`: label name -> the only values it may take here (e.g. the camera ids).
    """
    allowed_values = {k: set(v) for k, v in (bounded_values or {}).items()}
    problems: list[str] = []
    for family in text_string_to_metric_families(text):
        name = family.name
        if name.endswith("_created") and family.type == "gauge":
            continue  # prometheus_client's creation timestamps of counters and histograms
        if not name.startswith(d.PREFIX):
            problems.append(f"{name}: no {d.PREFIX} prefix")
            continue
        definition = _definition_for(family)
        if definition is None:
            problems.append(f"{name} ({family.type}): not in cluster/metrics/definitions.py")
            continue
        if family.type == "counter":
            bad = {s.name for s in family.samples if not s.name.endswith(("_total", "_created"))}
            if bad:
                problems.append(f"{name}: counter samples without _total: {sorted(bad)}")
        elif family.type == "histogram":
            if not name.endswith(HISTOGRAM_UNITS):
                problems.append(f"{name}: histogram not in a base unit ({', '.join(HISTOGRAM_UNITS)})")
            by_series: dict[tuple, set[str]] = {}
            for s in family.samples:
                if s.name.endswith("_bucket"):
                    key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                    by_series.setdefault(key, set()).add(s.labels["le"])
            if any("+Inf" not in les for les in by_series.values()):
                problems.append(f'{name}: a histogram series without an le="+Inf" bucket')
        elif family.type == "gauge":
            if name.endswith("_total"):
                problems.append(f"{name}: a gauge named like a counter")
            if name.endswith("_info") and any(s.value != 1 for s in family.samples):
                problems.append(f"{name}: info series must have the value 1")
        else:
            problems.append(f"{name}: unexpected type {family.type}")
        for word, suffix in UNIT_WORDS.items():
            if f"_{word}" in name and not name.endswith((suffix, suffix + "_total")):
                problems.append(f"{name}: unit {word} must be the name's suffix")
        for sample in family.samples:
            labels = set(sample.labels) - {"le"}
            if labels != set(definition.labels) and not sample.name.endswith("_created"):
                problems.append(f"{sample.name}: labels {sorted(labels)}, definition says {list(definition.labels)}")
            for label, value in sample.labels.items():
                if label in d.FORBIDDEN_LABELS:
                    problems.append(f"{sample.name}: unbounded identity label {label!r}")
                elif label != "le" and label not in d.ALLOWED_LABELS:
                    problems.append(f"{sample.name}: label {label!r} is not in ALLOWED_LABELS")
                if label in allowed_values and value not in allowed_values[label]:
                    problems.append(f"{sample.name}: {label}={value!r} is outside {sorted(allowed_values[label])}")
    return sorted(set(problems))
