"""The metric table follows Prometheus naming conventions and bounded labels."""

from __future__ import annotations

from collections import Counter

import pytest

from cluster.metrics import definitions as d


@pytest.mark.parametrize("definition", d.ALL, ids=lambda m: m.name)
def test_each_definition_follows_the_conventions(definition):
    name = definition.name
    assert name.startswith(d.PREFIX)
    assert name == name.lower() and " " not in name
    if definition.kind is d.Kind.COUNTER:
        assert name.endswith("_total"), "counters end in _total"
    else:
        assert not name.endswith("_total"), "only counters end in _total"
    if definition.kind is d.Kind.HISTOGRAM:
        assert name.endswith("_seconds"), "our histograms are durations in seconds"
        assert list(definition.buckets) == sorted(definition.buckets) and definition.buckets
    if definition.kind is d.Kind.INFO:
        assert name.endswith("_info")
    assert set(definition.labels) <= set(d.ALLOWED_LABELS), f"undeclared labels in {definition.labels}"
    assert not set(definition.labels) & d.FORBIDDEN_LABELS
    assert "job" not in definition.labels and "instance" not in definition.labels, (
        "Prometheus owns job and instance (ours would become exported_job)"
    )
    assert definition.help.strip()


def test_names_are_unique():
    duplicates = [n for n, c in Counter(m.name for m in d.ALL).items() if c > 1]
    assert duplicates == []
