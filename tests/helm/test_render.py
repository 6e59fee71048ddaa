"""The chart lints and renders with Helm's engine, and every rendered object is valid:
built-in kinds against the Kubernetes schemas (kubernetes-validate, offline, strict:
an unknown field is an error), the RayCluster against KubeRay's CRD schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.conftest import shared_dir

from .chart import CHART_DIR, VALUE_SETS, render, render_files

# Kinds of prometheus-operator: no schema of theirs is available offline; what they
# carry is cross-checked in test_crosschecks.py.
OPERATOR_KINDS = {("monitoring.coreos.com/v1", k) for k in ("ServiceMonitor", "PodMonitor", "PrometheusRule")}
KUBERNETES_VERSION = kubernetes_validate.latest_version()


def crd_schema(name: str, version: str) -> dict[str, Any]:
    crd = yaml.safe_load((shared_dir() / "k8s" / "crds" / name).read_text(encoding="utf-8"))
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    return strict(served["schema"]["openAPIV3Schema"])


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused, as `kubectl apply --validate=strict`
    does (the API server would prune them silently: a misspelt field would just vanish)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def raycluster_schema() -> dict[str, Any]:
    return crd_schema("ray.io_rayclusters.yaml", "v1")


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_chart_lints_clean(value_set):
    report = helm.lint(CHART_DIR, VALUE_SETS[value_set], strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, f"helm lint --strict with {value_set!r}: {report}"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_builtin_object_is_valid_kubernetes(value_set):
    objects = render(VALUE_SETS[value_set])
    assert objects, "the chart renders objects"
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in OPERATOR_KINDS or obj["apiVersion"].startswith("ray.io/"):
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{value_set}: {obj['kind']} {obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_raycluster_is_valid_against_kuberays_crd(value_set, raycluster_schema):
    clusters = [o for o in render(VALUE_SETS[value_set]) if o["kind"] == "RayCluster"]
    assert len(clusters) == 1, f"one RayCluster with {value_set!r}"
    assert clusters[0]["apiVersion"] == "ray.io/v1", "the served, stored version of the CRD"
    errors = sorted(jsonschema.Draft7Validator(raycluster_schema).iter_errors(clusters[0]), key=str)
    assert not errors, f"{value_set}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_strict_crd_validation_catches_a_misspelt_field(raycluster_schema):
    cluster = next(o for o in render({}) if o["kind"] == "RayCluster")
    cluster["spec"]["autoscalerOptions"]["upscalingmode"] = "Default"
    errors = list(jsonschema.Draft7Validator(raycluster_schema).iter_errors(cluster))
    assert errors, "a field the CRD does not have is refused, not pruned"


def test_notes_tell_how_to_reach_the_front_door_and_the_console():
    notes = render_files({})["matthan/templates/NOTES.txt"]
    assert "svc/duty-matthan-frontdoor 50051:50051" in notes, f"how to reach gRPC: {notes}"
    assert "https://localhost:8480/" in notes, f"how to open the console: {notes}"
    ingress = render_files(VALUE_SETS["tls"])["matthan/templates/NOTES.txt"]
    assert "https://camera.q7.example.org/" in ingress, f"the console's Ingress address: {ingress}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ray": {"workers": {"minReplicas": 5, "maxReplicas": 3, "replicas": 4}}}, "must not exceed"),
        ({"ray": {"workers": {"replicas": 9}}}, "must be between"),
        ({"frontDoor": {"tls": {"enabled": False}}}, "frontDoor.allowPlaintext"),
    ],
)
def test_values_the_schema_cannot_check_fail_the_render(values, message):
    with helm.Chart.load(CHART_DIR) as chart, pytest.raises(helm.HelmRenderError, match=message):
        chart.render(values, name="duty", namespace="district-7")


BAD_VALUES = {
    "an unknown top-level key": {"replicaCount": 3},
    "a misspelt nested key": {"ray": {"workers": {"maxReplica": 3}}},
    "a port out of range": {"frontDoor": {"grpc": {"port": 70000}}},
    "an upscaling mode KubeRay does not have": {"ray": {"autoscaling": {"upscalingMode": "Fast"}}},
    "autoscaling to no worker": {"ray": {"workers": {"maxReplicas": 0}}},
    "a literal token in values": {"config": {"server": {"tokens": [{"name": "x", "sha256": "0" * 64}]}}},
    "the chart's own keys in config": {"config": {"runtime": {"state_dir": "/tmp"}}},
    "cameras under config instead of cameras": {"config": {"cameras": []}},
    "GCS fault tolerance without a Redis": {"ray": {"gcsFaultTolerance": {"enabled": True}}},
    "TLS without its Secret": {"frontDoor": {"tls": {"enabled": True, "secretName": ""}}},
    "a memory size that is no quantity": {"ray": {"head": {"resources": {"limits": {"memory": "4 gigs"}}}}},
    "a relative state path": {"state": {"mountPath": "var/state"}},
    "a camera without a source": {"cameras": [{"id": "cam-1"}]},
    "a bad cron schedule": {"deploy": {"schedule": "every ten minutes"}},
    "Ray auth without its Secret": {"ray": {"auth": {"enabled": True, "secretName": ""}}},
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_values_schema_rejects_bad_values(case):
    with helm.Chart.load(CHART_DIR) as chart, pytest.raises(helm.HelmValuesError):
        chart.validate_schema(BAD_VALUES[case])


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_values_schema_accepts_every_value_set(value_set):
    with helm.Chart.load(CHART_DIR) as chart:
        chart.validate_schema(VALUE_SETS[value_set])


def test_values_yaml_documents_every_key():
    """Each key of values.yaml has a comment on its own line above it, or is in a
    block whose comment describes it (the groups below)."""
    lines = (CHART_DIR / "values.yaml").read_text(encoding="utf-8").splitlines()
    undocumented = []
    for n, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("- ") or ":" not in stripped:
            continue
        key = stripped.split(":")[0]
        above = lines[n - 1].strip() if n else ""
        parent_documented = _parent_comment(lines, n)
        if not above.startswith("#") and not parent_documented:
            undocumented.append(f"line {n + 1}: {key}")
    assert not undocumented, f"values.yaml keys without a comment: {undocumented}"


def _parent_comment(lines: list[str], n: int) -> bool:
    """A key whose nearest less-indented key (its parent) is documented, or a sibling
    in a run of keys right below a comment, counts as documented by that comment."""
    indent = len(lines[n]) - len(lines[n].lstrip())
    for m in range(n - 1, -1, -1):
        text = lines[m]
        if not text.strip():
            return False
        if text.strip().startswith("#"):
            return True
        if len(text) - len(text.lstrip()) < indent:
            return m > 0 and lines[m - 1].strip().startswith("#")
    return False


def test_schema_file_is_json_schema():
    import json

    schema = json.loads((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert Path(CHART_DIR / "values.yaml").is_file(), "values.yaml beside it"


def test_kubernetes_validation_catches_a_misspelt_field():
    deployment = next(o for o in render({}) if o["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
