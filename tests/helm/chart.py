"""Rendering the chart with Helm's own Go engine (helm-python-sdk; no helm binary),
and the value sets the tests render it with."""

from __future__ import annotations

import functools
import json
from typing import Any

import helm_python as helm
import yaml

from tests.conftest import REPO_ROOT

CHART_DIR = REPO_ROOT / "helm" / "matthan"
RELEASE, NAMESPACE = "duty", "district-7"
NOTES = "matthan/templates/NOTES.txt"


GIB = 1 << 30


def camera(i: int, record_gib: int = 0) -> dict[str, Any]:
    config: dict[str, Any] = {
        "id": f"cam-{i:03d}",
        "name": f"Hẻm {i}",
        "groups": [f"ward-{i % 8}"],
        "source": {"url": f"rtsp://viewer:secret@10.0.{i // 200}.{i % 200 + 10}:554/stream1"},
        "analysis": {"fps": 5},
    }
    if record_gib:
        config["recording"] = {"mode": "continuous", "retention": {"max_bytes": record_gib * GIB}}
    return config


VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    # One commune: 64 cameras on two 4-core workers, each recording within 3 GiB.
    "commune": {
        "cameras": [camera(i, record_gib=3) for i in range(64)],
        "ray": {"workers": {"minReplicas": 1, "maxReplicas": 2, "replicas": 1}},
        "recordings": {"enabled": True, "budgetGiB": 200, "storageClass": "nfs"},
        "state": {"storageClass": "ssd", "size": "10Gi"},
    },
    # A district: hundreds of cameras, autoscaling to 20 eight-core workers.
    "district": {
        "cameras": [camera(i) for i in range(300)],
        "config": {"scheduler": {"use_head_node": False, "headroom": 0.25}, "events": {"batch": {"max_events": 1000}}},
        "ray": {
            "workers": {
                "minReplicas": 2,
                "maxReplicas": 20,
                "replicas": 2,
                "cpus": 8,
                "nodeKind": "xeon-8c",
                "resources": {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": {"cpu": "8", "memory": "16Gi"}},
            },
            "autoscaling": {"upscalingMode": "Aggressive", "idleTimeoutSeconds": 600},
        },
        "deploy": {"schedule": "*/10 * * * *", "concurrency": 16, "restartScheduler": True, "keepUnlisted": True},
        "models": {"existingClaim": "matthan-models"},
    },
    # TLS with client certificates, and the console behind an Ingress.
    "tls": {
        "frontDoor": {
            "tls": {"enabled": True, "secretName": "frontdoor-cert", "clientCA": True},
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "host": "camera.q7.example.org",
                "tlsSecretName": "q7-cert",
            },
        }
    },
    # TLS terminated by a mesh: plaintext front door, Kubernetes' own gRPC probes.
    "plaintext": {"frontDoor": {"tls": {"enabled": False}, "allowPlaintext": True}},
    # Ray without token authentication (a trusted network), and monitoring off.
    "monitoring-off": {
        "ray": {"auth": {"enabled": False}},
        "monitoring": {
            "serviceMonitor": {"enabled": False},
            "rayPodMonitor": {"enabled": False},
            "prometheusRule": {"enabled": False},
            "dashboards": {"enabled": False},
        },
    },
    "gcs-ft": {
        "ray": {
            "gcsFaultTolerance": {
                "enabled": True,
                "redisAddress": "redis-master.matthan-infra:6379",
                "passwordSecret": {"name": "matthan-redis", "key": "redis-password"},
            }
        }
    },
}


@functools.cache
def _render(values_json: str) -> tuple[tuple[str, str], ...]:
    with helm.Chart.load(CHART_DIR) as chart:
        rendered = chart.render(json.loads(values_json), name=RELEASE, namespace=NAMESPACE)
    return tuple(sorted(rendered.items()))


def render_files(values: dict[str, Any]) -> dict[str, str]:
    """Template path -> rendered text."""
    return dict(_render(json.dumps(values, sort_keys=True)))


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rendered Kubernetes object."""
    objects = []
    for path, text in render_files(values).items():
        if path == NOTES:
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def only(objects: list[dict[str, Any]], kind: str, name_suffix: str = "") -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"one {kind} named *{name_suffix}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def containers(pod_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Name -> container, init containers included."""
    return {c["name"]: c for c in pod_spec.get("initContainers", []) + pod_spec["containers"]}
