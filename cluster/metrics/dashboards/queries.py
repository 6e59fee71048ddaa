"""Query fragments and template variables the dashboards share."""

from __future__ import annotations

from ..grafana import query_variable

C = 'camera=~"$camera"'
N = 'node=~"$node"'
RI = "$__rate_interval"

NODE_VAR = query_variable("node", "Node", "label_values(matthan_node_info, node)")
CAMERAS_VAR = query_variable("camera", "Camera", 'label_values(matthan_camera_info{node=~"$node"}, camera)')
ONE_CAMERA_VAR = query_variable(
    "camera", "Camera", 'label_values(matthan_camera_info{node=~"$node"}, camera)', multi=False, include_all=False
)
RED_ABOVE_ZERO = [(None, "green"), (1, "red")]


def rate(metric: str, selector: str = C) -> str:
    return f"rate({metric}{{{selector}}}[{RI}])"


def quantile(q: float, metric: str, by: str = "le", selector: str = C) -> str:
    return f"histogram_quantile({q}, sum by ({by}) ({rate(metric + '_bucket', selector)}))"
