"""The front door dashboard (`front-door.json`): gRPC calls, subscribers, the console."""

from __future__ import annotations

from typing import Any

from ..grafana import Layout, dashboard, stat, timeseries
from .queries import CAMERAS_VAR, NODE_VAR, RI, C, quantile, rate


def front_door() -> dict[str, Any]:
    delivered, dropped = "matthan_gateway_messages_delivered_total", "matthan_gateway_messages_dropped_total"
    handled = "matthan_gateway_rpcs_handled_total"
    lay = Layout()
    lay.row("Subscribers")
    lay.add(
        stat(
            "Subscribers",
            "Open stream subscriptions to the selected cameras.",
            [(f"sum(matthan_gateway_subscribers{{{C}}})", "subscribers")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "RPCs in flight",
            "Calls in progress, open streams included.",
            [("sum(matthan_gateway_rpcs_in_flight)", "in flight")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Drop ratio",
            "Messages dropped over messages produced for subscribers.",
            [(f"sum({rate(dropped)}) / (sum({rate(delivered)}) + sum({rate(dropped)}))", "dropped")],
            unit="percentunit",
            thresholds=[(None, "green"), (0.01, "orange"), (0.1, "red")],
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "RPC error ratio",
            "Calls that did not end OK.",
            [(f'sum(rate({handled}{{code!="OK"}}[{RI}])) / sum(rate({handled}[{RI}]))', "errors")],
            unit="percentunit",
            thresholds=[(None, "green"), (0.01, "orange"), (0.1, "red")],
        ),
        6,
        4,
    )
    lay.add(
        timeseries(
            "Subscribers by kind",
            "Frame and detection streams.",
            [(f"sum by (kind) (matthan_gateway_subscribers{{{C}}})", "{{kind}}")],
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Subscribers, 10 most watched cameras",
            "Open streams per camera.",
            [(f"topk(10, sum by (camera) (matthan_gateway_subscribers{{{C}}}))", "{{camera}}")],
        )
    )

    lay.row("Messages")
    lay.add(
        timeseries(
            "Delivered per second",
            "Messages sent to subscribers, by kind.",
            [(f"sum by (kind) ({rate(delivered)})", "{{kind}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Dropped per second",
            "Frames replaced in full queues, detection streams cut off...",
            [(f"sum by (kind, reason) ({rate(dropped)})", "{{kind}}: {{reason}}")],
            stack=True,
        ),
        8,
    )
    lay.add(
        timeseries(
            "Subscriptions closed",
            "Per second, by kind and reason.",
            [
                (
                    f"sum by (kind, reason) (rate(matthan_gateway_subscriptions_closed_total[{RI}]))",
                    "{{kind}}: {{reason}}",
                )
            ],
            stack=True,
        ),
        8,
    )

    lay.row("RPCs")
    lay.add(
        timeseries(
            "RPCs per second",
            "Finished calls by method and status code.",
            [(f"sum by (method, code) (rate({handled}[{RI}]))", "{{method}} {{code}}")],
        )
    )
    lay.add(
        timeseries(
            "RPC errors per second",
            "Calls that did not end OK, by method and code.",
            [(f'sum by (method, code) (rate({handled}{{code!="OK"}}[{RI}]))', "{{method}} {{code}}")],
        )
    )
    lay.add(
        timeseries(
            "Unary RPC latency",
            "p50 and p99 by method (streams are not timed).",
            [
                (quantile(0.5, "matthan_gateway_rpc_duration_seconds", "method, le", ""), "{{method}} p50"),
                (quantile(0.99, "matthan_gateway_rpc_duration_seconds", "method, le", ""), "{{method}} p99"),
            ],
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "RPCs in flight by method",
            "Open streams show up here for as long as they last.",
            [("sum by (method) (matthan_gateway_rpcs_in_flight)", "{{method}}")],
        )
    )
    return dashboard(
        "matthan-front-door",
        "Mắt Thần / Front door",
        "Who is watching (subscribers per camera and kind), are they keeping up (delivered vs "
        "dropped), and how the gRPC API behaves (rates, errors and latency by method and code).",
        lay,
        [NODE_VAR, CAMERAS_VAR],
    )
