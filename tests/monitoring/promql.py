"""What the monitoring tests need to know about PromQL and our monitoring files:
where the expressions are, Grafana's variables filled in, and alert conditions
turned into their signal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
DASHBOARDS = MONITORING / "grafana" / "dashboards"
ALERTS = MONITORING / "prometheus" / "alerts.yml"
ALERT_TESTS = MONITORING / "prometheus" / "alerts_test.yml"
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yml"

_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load_dashboard(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def panel_expressions(board: dict) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, inside rows too."""
    return [
        (inner.get("title", "?"), target["expr"])
        for panel in board.get("panels", [])
        for inner in [panel, *panel.get("panels", [])]
        for target in inner.get("targets", [])
    ]


def variable_queries(board: dict) -> list[tuple[str, str]]:
    """(variable name, its label_values(...) query) of every query variable."""
    found = []
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append((variable["name"], query["query"] if isinstance(query, dict) else query))
    return found


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Fill in Grafana's variables: `$name` and `${name}` from `variables`, and the
    built-in interval ones. An unknown variable is an error, not silently left."""
    builtins = {"__rate_interval": "1m", "__interval": "15s", "__range": "1m"}
    values = {**builtins, **variables}

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, expr)


def comparisons_as_bool(expr: str) -> str:
    """`a > 2` -> `a > bool 2`: a comparison that filters becomes one that returns
    0 or 1 for every series, so an alert's expression returns its signal whether
    or not the alert would fire. Label matchers and strings are left alone."""
    out, i, depth = [], 0, 0
    quote: str | None = None
    while i < len(expr):
        ch = expr[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "\"'`":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            op = next((o for o in _COMPARISONS if expr.startswith(o, i)), None)
            if op is not None and not expr.startswith(("=~", "!~"), i):
                rest = expr[i + len(op) :]
                out.append(op)
                if not re.match(r"\s*bool\b", rest):
                    out.append(" bool")
                i += len(op)
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def label_values_query(query: str) -> tuple[str, str]:
    """`label_values(selector, label)` -> (selector, label)."""
    match = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\s*\)\s*", query)
    if not match:
        raise ValueError(f"not a label_values(selector, label) query: {query!r}")
    return match.group(1), match.group(2)
