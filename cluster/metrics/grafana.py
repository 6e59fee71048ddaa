"""Small builders for Grafana dashboard JSON (schema 39, Grafana 10/11).

Every panel and target reads from the `datasource` template variable, so the
dashboards work with whatever the Prometheus data source is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
TAG = "matthan"

Panel = dict[str, Any]


def target(
    expr: str, legend: str = "__auto", *, ref: str = "A", instant: bool = False, fmt: str | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if fmt is not None:
        result["format"] = fmt
    return result


def _targets(queries: list[tuple[str, str]], instant: bool = False, fmt: str | None = None) -> list[dict]:
    return [
        target(expr, legend, ref=chr(ord("A") + i), instant=instant, fmt=fmt)
        for i, (expr, legend) in enumerate(queries)
    ]


def _field_config(
    unit: str,
    minimum: float | None,
    maximum: float | None,
    thresholds: Sequence[tuple[float | None, str]] | None,
    *,
    custom: dict | None = None,
    mappings: list[dict] | None = None,
) -> dict[str, Any]:
    steps = thresholds or [(None, "green")]
    defaults: dict[str, Any] = {
        "unit": unit,
        "thresholds": {"mode": "absolute", "steps": [{"color": color, "value": value} for value, color in steps]},
        "mappings": mappings or [],
    }
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if custom:
        defaults["custom"] = custom
    return {"defaults": defaults, "overrides": []}


def timeseries(
    title: str,
    description: str,
    queries: list[tuple[str, str]],
    *,
    unit: str = "short",
    stack: bool = False,
    minimum: float | None = 0,
    maximum: float | None = None,
) -> Panel:
    custom = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 20 if stack else 5,
        "showPoints": "never",
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "spanNulls": False,
    }
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(queries),
        "fieldConfig": _field_config(unit, minimum, maximum, None, custom=custom),
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(
    title: str,
    description: str,
    queries: list[tuple[str, str]],
    *,
    unit: str = "short",
    thresholds: Sequence[tuple[float | None, str]] | None = None,
    text_mode: str = "auto",
    mappings: list[dict] | None = None,
) -> Panel:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(queries, instant=True),
        "fieldConfig": _field_config(unit, None, None, thresholds, mappings=mappings),
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "textMode": text_mode,
            "orientation": "auto",
        },
    }


def bar_gauge(
    title: str,
    description: str,
    queries: list[tuple[str, str]],
    *,
    unit: str = "short",
    minimum: float | None = 0,
    maximum: float | None = None,
) -> Panel:
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(queries, instant=True),
        "fieldConfig": _field_config(unit, minimum, maximum, None),
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
        },
    }


def heatmap(title: str, description: str, expr: str, *, unit: str = "s") -> Panel:
    return {
        "type": "heatmap",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr, "{{le}}", fmt="heatmap")],
        "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"}}}, "overrides": []},
        "options": {
            "calculate": False,
            "yAxis": {"unit": unit},
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "rowsFrame": {"layout": "auto"},
            "legend": {"show": True},
        },
    }


def datasource_variable() -> dict[str, Any]:
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def query_variable(
    name: str, label: str, query: str, *, multi: bool = True, include_all: bool = True
) -> dict[str, Any]:
    """A `label_values(...)` variable. Without an allValue, "All" expands to the
    values the query found, so a camera variable chained on `$node` limits the
    cameras to the selected nodes."""
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "current": {},
        "hide": 0,
        "includeAll": include_all,
        "multi": multi,
        "options": [],
        "refresh": 2,  # on time range change: cameras come and go
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
    }


class Layout:
    """Places panels left to right on Grafana's 24-column grid, rows top to bottom."""

    WIDTH = 24

    def __init__(self) -> None:
        self.panels: list[Panel] = []
        self._x = 0
        self._y = 0
        self._line_height = 0

    def row(self, title: str) -> None:
        self._new_line()
        self._place({"type": "row", "title": title, "collapsed": False, "panels": []}, self.WIDTH, 1)
        self._new_line()

    def add(self, panel: Panel, width: int = 12, height: int = 8) -> None:
        if self._x + width > self.WIDTH:
            self._new_line()
        self._place(panel, width, height)

    def _place(self, panel: Panel, width: int, height: int) -> None:
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": height, "w": width, "x": self._x, "y": self._y}
        self.panels.append(panel)
        self._x += width
        self._line_height = max(self._line_height, height)

    def _new_line(self) -> None:
        if self._x:
            self._y += self._line_height
        self._x, self._line_height = 0, 0


def dashboard(
    uid: str,
    title: str,
    description: str,
    layout: Layout,
    variables: list[dict[str, Any]],
    *,
    refresh: str = "30s",
    time_from: str = "now-1h",
) -> dict[str, Any]:
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "type": "dashboards",
                "tags": [TAG],
                "asDropdown": True,
                "title": "Mắt Thần dashboards",
                "includeVars": True,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            }
        ],
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": layout.panels,
    }


def expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows included."""
    return [
        (inner.get("title", ""), t["expr"])
        for panel in board.get("panels", [])
        for inner in [panel, *panel.get("panels", [])]
        for t in inner.get("targets", [])
    ]
