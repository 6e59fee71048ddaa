"""The test helpers that rewrite expressions must themselves be right."""

from __future__ import annotations

import pytest

from .promql import comparisons_as_bool, label_values_query, substitute


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a > 2", "a > bool 2"),
        ('up{job="x"} == 0', 'up{job="x"} == bool 0'),
        ('x{code!="OK", a=~"b|c"} >= 1', 'x{code!="OK", a=~"b|c"} >= bool 1'),
        ("a == 0 and on(c) b == 1", "a == bool 0 and on(c) b == bool 1"),
        ("a > bool 1", "a > bool 1"),
        ('x{l="a>b"} < 3', 'x{l="a>b"} < bool 3'),
        ("rate(x[5m])", "rate(x[5m])"),
    ],
)
def test_comparisons_become_bool(expr, expected):
    assert comparisons_as_bool(expr) == expected


def test_substitute_fills_grafana_variables_and_refuses_unknown_ones():
    assert substitute('rate(x{camera=~"$camera"}[$__rate_interval])', {"camera": "a|b"}) == 'rate(x{camera=~"a|b"}[1m])'
    assert substitute("${node}", {"node": "n1"}) == "n1"
    with pytest.raises(KeyError, match=r"\$nope"):
        substitute('x{a="$nope"}', {})


def test_label_values_query_is_split():
    assert label_values_query('label_values(matthan_camera_info{node=~"$node"}, camera)') == (
        'matthan_camera_info{node=~"$node"}',
        "camera",
    )
