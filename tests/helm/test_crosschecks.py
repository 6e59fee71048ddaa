"""Cross-checks between what the templates use and what the application reads, each
derived from the code (config models, CLI parsers, the gateway's health service
names, monitoring/), not from a second hand-written list."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from cluster.cli import deploy_cmd, serve_cmd
from cluster.cli.main import build_parser
from cluster.config import MatthanConfig, parse_config
from cluster.deploy import chart_files, compose, probe
from cluster.gateway.server import SERVICE_NAMES
from tests.conftest import REPO_ROOT

from .chart import VALUE_SETS, containers, only, render

TOKENS = [
    {"name": "duty-room-1", "sha256": "1" * 64, "role": "viewer", "groups": ["ward-3"]},
    {"name": "integrator", "sha256": "2" * 64, "role": "operator"},
]
HEALTH_SERVICES = {"", *SERVICE_NAMES}


def app_config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return yaml.safe_load(only(objects, "ConfigMap", "-config")["data"]["config.yaml"])


def front_door(objects):
    return only(objects, "Deployment", "-frontdoor")["spec"]["template"]["spec"]


def deploy_job(objects):
    return only(objects, "Job", "-deploy")["spec"]["template"]["spec"]


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{parser.prog} does not accept {argv}")


def mounts(container: dict[str, Any]) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}


def volumes(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod.get("volumes", [])}


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_rendered_config_loads_with_the_apps_own_models(value_set):
    objects = render(VALUE_SETS[value_set])
    composed = compose.compose(app_config(objects), TOKENS, origin=f"{value_set} ConfigMap")
    config = parse_config(composed)
    assert isinstance(config, MatthanConfig), "the root model takes it"
    assert len(config.cameras) == len(VALUE_SETS[value_set].get("cameras", [])), "every camera of the values"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_ports_in_the_config_are_the_ports_of_the_pod_and_the_service(value_set):
    objects = render(VALUE_SETS[value_set])
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    pod = front_door(objects)
    container_ports = {p["name"]: p["containerPort"] for p in containers(pod)["frontdoor"]["ports"]}
    service = only(objects, "Service", "-frontdoor")["spec"]
    service_ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["ports"]}
    wanted = {"grpc": config.server.port, "metrics": config.metrics.port}
    if config.server.web is not None:
        wanted["web"] = config.server.web.port
    assert container_ports == wanted, f"the container exposes what the app listens on: {container_ports} vs {wanted}"
    assert service_ports == {n: (p, n) for n, p in wanted.items()}, f"the Service routes to them: {service_ports}"
    assert config.server.host == config.metrics.host == "0.0.0.0", "the pod listens beyond loopback"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_pod_commands_are_real_commands_of_their_parsers(value_set):
    objects = render(VALUE_SETS[value_set])
    for pod in (front_door(objects), deploy_job(objects)):
        for name, container in containers(pod).items():
            command = container["command"]
            if command[:3] == ["python", "-m", "cluster.deploy.compose"]:
                parse(compose.build_parser(), command[3:])
            elif command[0] == "matthan":
                args = parse(build_parser(), command[1:])
                assert args.func in (serve_cmd.run, deploy_cmd.run), f"{name}: a serve or deploy command"
            else:
                pytest.fail(f"{value_set}: container {name} runs something unknown: {command}")


def test_the_front_door_serves_and_the_job_deploys_the_composed_config():
    objects = render({})
    compose_args = parse(compose.build_parser(), containers(front_door(objects))["compose-config"]["command"][3:])
    serve = parse(build_parser(), containers(front_door(objects))["frontdoor"]["command"][1:])
    deploy = parse(build_parser(), containers(deploy_job(objects))["deploy"]["command"][1:])
    assert serve.config == deploy.config == compose_args.out, "both read what the init container wrote"
    head_service = only(objects, "RayCluster")["metadata"]["name"] + "-head-svc"
    client_port = next(
        p["containerPort"]
        for p in only(objects, "RayCluster")["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["ports"]
        if p["name"] == "client"
    )
    assert serve.address == deploy.address == f"ray://{head_service}:{client_port}", (
        "both join the release's Ray head through its Service's client port (KubeRay names it <cluster>-head-svc)"
    )


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_probes_ask_for_health_services_the_gateway_registers(value_set):
    objects = render(VALUE_SETS[value_set])
    container = containers(front_door(objects))["frontdoor"]
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe_spec = container[kind]
        if "grpc" in probe_spec:
            assert probe_spec["grpc"]["port"] == parse_config(compose.compose(app_config(objects), TOKENS)).server.port
            assert probe_spec["grpc"]["service"] in HEALTH_SERVICES, f"{kind}: {probe_spec}"
        elif "exec" in probe_spec:
            args = parse(probe.build_parser(), probe_spec["exec"]["command"][3:])
            assert args.service in HEALTH_SERVICES, f"{kind}: {args.service!r} is not in {HEALTH_SERVICES}"
        else:
            assert value_set == "tls" and probe_spec["tcpSocket"]["port"] == "grpc", (
                f"only mTLS (the probe has no client certificate) falls back to a TCP probe: {kind} {probe_spec}"
            )
    readiness = container["readinessProbe"]
    service = readiness.get("grpc", {}).get("service")
    if "exec" in readiness:
        service = parse(probe.build_parser(), readiness["exec"]["command"][3:]).service
    if "tcpSocket" not in readiness:
        assert service in SERVICE_NAMES, "readiness asks for the camera service, not just the server"


@pytest.mark.parametrize("value_set", ["default", "tls", "plaintext"])
def test_tls_and_token_paths_are_the_secrets_keys_where_they_are_mounted(value_set):
    objects = render(VALUE_SETS[value_set])
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    pod = front_door(objects)
    frontdoor, composer = containers(pod)["frontdoor"], containers(pod)["compose-config"]
    vols = volumes(pod)
    tokens_volume = vols["tokens"]["secret"]
    values_tokens = {"secretName": "matthan-tokens", "key": "tokens.yaml"}
    assert tokens_volume["secretName"] == values_tokens["secretName"], "the tokens Secret of the values"
    [item] = tokens_volume["items"]
    assert item["key"] == values_tokens["key"], "the Secret key the values name"
    compose_args = parse(compose.build_parser(), composer["command"][3:])
    assert str(compose_args.tokens) == f"{mounts(composer)['tokens']}/{item['path']}", "compose reads that key"
    if config.server.tls is None:
        assert "tls" not in vols, "no TLS Secret without TLS"
        return
    items = {i["path"]: i["key"] for i in vols["tls"]["secret"]["items"]}
    assert set(items.values()) <= {"tls.crt", "tls.key", "ca.crt"}, f"keys of a kubernetes.io/tls Secret: {items}"
    tls_dir = mounts(frontdoor)["tls"]
    files = [config.server.tls.cert_file, config.server.tls.key_file]
    if config.server.tls.client_ca_file is not None:
        files.append(config.server.tls.client_ca_file)
    for path in files:
        assert str(path.parent) == tls_dir and path.name in items, f"{path} is a mounted key of the TLS Secret"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_state_directory_is_the_heads_persistent_volume(value_set):
    objects = render(VALUE_SETS[value_set])
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    head = only(objects, "RayCluster")["spec"]["headGroupSpec"]["template"]["spec"]
    head_mounts = mounts(head["containers"][0])
    assert str(config.runtime.state_dir) == head_mounts["state"], "the scheduler's state_dir is the volume's mount"
    claim = volumes(head)["state"]["persistentVolumeClaim"]["claimName"]
    pvc = only(objects, "PersistentVolumeClaim", "-state")
    assert pvc["metadata"]["name"] == claim, "the head mounts the chart's state claim"
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", "uninstall keeps the state"
    store = config.events.store.resolved_path(config.runtime.state_dir)
    assert store.is_relative_to(head_mounts["state"]), f"the event store {store} is on the state volume"


def test_the_recordings_volume_is_the_budget_plus_headroom_on_every_ray_pod():
    values = VALUE_SETS["commune"]
    objects = render(values)
    pvc = only(objects, "PersistentVolumeClaim", "-recordings")
    budget = values["recordings"]["budgetGiB"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == f"{math.ceil(budget * (100 + 10) / 100)}Gi", (
        "budget + 10%"
    )
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"], "every camera worker writes to it"
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    spec = only(objects, "RayCluster")["spec"]
    pods = [spec["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in spec["workerGroupSpecs"]]
    pods.append(front_door(objects))
    for pod in pods:
        assert mounts(pod["containers"][-1])["recordings"] == "/var/lib/matthan/recordings", "on every pod"
        assert volumes(pod)["recordings"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    for camera_config in config.cameras:
        directory = config.recordings.directory_for(camera_config.groups, config.runtime.state_dir)
        assert str(directory) == "/var/lib/matthan/recordings", f"{camera_config.id} records onto the volume"
    total = sum(c.recording.retention.max_bytes for c in config.cameras)
    assert total <= budget * (1 << 30), "the cameras' budgets fit the volume's"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cameras": [{"id": "a", "source": {"url": "rtsp://h/s"}, "recording": {"mode": "continuous"}}]}, "no volume"),
        (
            {
                "recordings": {"enabled": True, "budgetGiB": 10},
                "cameras": [
                    {
                        "id": f"c{i}",
                        "source": {"url": "rtsp://h/s"},
                        "recording": {"mode": "continuous", "retention": {"max_bytes": 4 << 30}},
                    }
                    for i in range(3)
                ],
            },
            "add up to",
        ),
        (
            {
                "recordings": {"enabled": True},
                "config": {"recordings": {"group_directories": {"ward-3": "/mnt/other"}}},
            },
            "must be under recordings.mountPath",
        ),
    ],
)
def test_recordings_that_would_not_fit_their_volume_fail_the_render(values, message):
    import helm_python as helm

    from .chart import CHART_DIR

    with helm.Chart.load(CHART_DIR) as chart, pytest.raises(helm.HelmRenderError, match=message):
        chart.render(values, name="duty", namespace="district-7")


def test_the_front_door_reads_the_event_store_on_the_heads_node():
    objects = render({})
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    pod = front_door(objects)
    assert mounts(containers(pod)["frontdoor"])["state"] == str(config.runtime.state_dir), "the state volume"
    assert (
        volumes(pod)["state"]["persistentVolumeClaim"]["claimName"]
        == only(objects, "PersistentVolumeClaim", "-state")["metadata"]["name"]
    ), "the head's claim"
    [term] = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname", "one node: the claim is ReadWriteOnce"
    assert term["labelSelector"]["matchLabels"] == {
        "ray.io/cluster": only(objects, "RayCluster")["metadata"]["name"],
        "ray.io/node-type": "head",
    }, "the node of the Ray head pod (KubeRay's labels)"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_head_takes_no_camera_and_workers_offer_their_cpu_limit(value_set):
    objects = render(VALUE_SETS[value_set])
    config = parse_config(compose.compose(app_config(objects), TOKENS))
    spec = only(objects, "RayCluster")["spec"]
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0", "no camera work on the head"
    assert config.scheduler.use_head_node is False, "and the scheduler does not try"
    for group in spec["workerGroupSpecs"]:
        limit = group["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
        assert float(group["rayStartParams"]["num-cpus"]) == float(limit), (
            f"{group['groupName']}: the CPUs the scheduler places by are the CPUs the pod may use"
        )
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"], f"{group}"


def test_the_district_autoscales_to_20_workers_with_kuberay():
    spec = only(render(VALUE_SETS["district"]), "RayCluster")["spec"]
    assert spec["enableInTreeAutoscaling"] is True, "KubeRay's in-tree autoscaler"
    assert spec["workerGroupSpecs"][0]["maxReplicas"] == 20, "up to 20 workers"
    assert spec["autoscalerOptions"]["upscalingMode"] == "Aggressive", "the values' mode"
    assert spec["workerGroupSpecs"][0]["rayStartParams"]["labels"] == "matthan.io/node-kind=xeon-8c", (
        "the node-kind label the scheduler's cost calibration reads"
    )
    from cluster.scheduler.capacity import NODE_KIND_LABEL

    assert NODE_KIND_LABEL == "matthan.io/node-kind", "the label the chart writes is the scheduler's"


def test_gcs_fault_tolerance_takes_the_redis_password_from_a_secret_by_reference():
    spec = only(render(VALUE_SETS["gcs-ft"]), "RayCluster")["spec"]
    options = spec["gcsFaultToleranceOptions"]
    assert options["redisAddress"] == "redis-master.matthan-infra:6379", "the values' Redis"
    assert options["redisPassword"] == {
        "valueFrom": {"secretKeyRef": {"name": "matthan-redis", "key": "redis-password"}}
    }
    assert "gcsFaultToleranceOptions" not in only(render({}), "RayCluster")["spec"], "off by default"


def test_no_secret_value_is_rendered():
    for name, values in VALUE_SETS.items():
        kinds = {o["kind"] for o in render(values)}
        assert "Secret" not in kinds, f"{name}: Secrets are referenced, never rendered"


def test_the_ray_version_is_the_one_pyproject_allows():
    import tomllib

    spec = only(render({}), "RayCluster")["spec"]
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ray_requirement = next(d for d in pyproject["project"]["dependencies"] if d.startswith("ray"))
    specifier = SpecifierSet(ray_requirement.split("]", 1)[1] if "]" in ray_requirement else ray_requirement[3:])
    assert spec["rayVersion"] in specifier, f"rayVersion {spec['rayVersion']} satisfies {ray_requirement}"


def test_chart_app_version_is_the_package_version():
    import tomllib

    chart = yaml.safe_load((REPO_ROOT / "helm/matthan/Chart.yaml").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == pyproject["project"]["version"], "the chart deploys this package's version"


# ---- monitoring: the chart's copies are monitoring/ byte for byte ------------------------


def test_the_charts_copies_of_monitoring_are_byte_identical():
    assert chart_files.stale_copies() == [], "run python -m cluster.deploy.chart_files"
    assert chart_files.expected_copies(), "there is something to copy"


def test_each_dashboard_configmap_holds_its_dashboard_byte_for_byte():
    objects = render({})
    maps = {
        o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap" and "-dashboard-" in o["metadata"]["name"]
    }
    originals = sorted((REPO_ROOT / "monitoring/grafana/dashboards").glob("*.json"))
    assert len(maps) == len(originals), f"one ConfigMap per dashboard: {sorted(maps)}"
    for path in originals:
        config_map = maps[f"duty-matthan-dashboard-{path.stem}"]
        assert config_map["data"][path.name].encode("utf-8") == path.read_bytes(), f"{path.name} byte for byte"
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1", "labelled for Grafana's sidecar"
        json.loads(config_map["data"][path.name])


def test_the_prometheus_rule_carries_the_alert_rules_of_monitoring():
    rule = only(render({}), "PrometheusRule")
    original = yaml.safe_load((REPO_ROOT / "monitoring/prometheus/alerts.yml").read_text(encoding="utf-8"))
    assert rule["spec"] == original, "the PrometheusRule's spec is alerts.yml"


def test_the_monitors_select_what_serves_metrics():
    objects = render({})
    monitor = only(objects, "ServiceMonitor")
    service = only(objects, "Service", "-frontdoor")
    labels = service["metadata"]["labels"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert all(labels.get(k) == v for k, v in selector.items()), "the ServiceMonitor selects the front door Service"
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports, "by a port the Service has"
    pod_monitor = only(objects, "PodMonitor")
    cluster = only(objects, "RayCluster")
    assert pod_monitor["spec"]["selector"]["matchLabels"] == {"ray.io/cluster": cluster["metadata"]["name"]}, (
        "KubeRay labels its pods ray.io/cluster=<name>"
    )
    spec = cluster["spec"]
    for pod in [spec["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in spec["workerGroupSpecs"]]:
        port_names = {p["name"] for p in pod["containers"][0]["ports"]}
        assert {e["port"] for e in pod_monitor["spec"]["podMetricsEndpoints"]} <= port_names, "Ray's metrics port"


def test_monitoring_off_renders_no_monitoring_object():
    kinds = {(o["kind"], o["metadata"]["name"]) for o in render(VALUE_SETS["monitoring-off"])}
    assert not {k for k, _ in kinds} & {"ServiceMonitor", "PodMonitor", "PrometheusRule"}, f"{kinds}"
    assert not [n for k, n in kinds if "-dashboard-" in n], "no dashboard ConfigMap"


def test_the_scheduler_knows_the_autoscaler_it_runs_with():
    values = VALUE_SETS["district"]
    config = parse_config(compose.compose(app_config(render(values)), TOKENS))
    autoscaling = only(render(values), "RayCluster")["spec"]["autoscalerOptions"]
    assert config.scheduler.autoscaling is True, "consolidation on: emptied workers can be released"
    assert config.scheduler.max_node_cpus == values["ray"]["workers"]["cpus"], "the largest node KubeRay can add"
    assert config.scheduler.release_grace_s > autoscaling["idleTimeoutSeconds"], (
        "an emptied worker is removed by the autoscaler before it would take cameras again"
    )
    assert config.scheduler.headroom == 0.25, "the values' own scheduler settings are kept"
    fixed = parse_config(compose.compose(app_config(render({"ray": {"autoscaling": {"enabled": False}}})), TOKENS))
    assert fixed.scheduler.autoscaling is False, "no consolidation without an autoscaler"


def test_a_release_grace_shorter_than_the_idle_timeout_fails_the_render():
    import helm_python as helm

    from .chart import CHART_DIR

    values = {"config": {"scheduler": {"release_grace_s": 60}}, "ray": {"autoscaling": {"idleTimeoutSeconds": 300}}}
    with helm.Chart.load(CHART_DIR) as chart, pytest.raises(helm.HelmRenderError, match="must exceed"):
        chart.render(values, name="duty", namespace="district-7")


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_pods_joining_ray_carry_the_token_of_the_clusters_auth_secret(value_set):
    objects = render(VALUE_SETS[value_set])
    auth = only(objects, "RayCluster")["spec"].get("authOptions")
    joining = [containers(front_door(objects))["frontdoor"], containers(deploy_job(objects))["deploy"]]
    for container in joining:
        env = {e["name"]: e for e in container.get("env", [])}
        if auth is None:
            assert "RAY_AUTH_TOKEN" not in env, f"{value_set}: no token without Ray auth"
            continue
        assert auth["mode"] == "token", "Ray's token mode"
        assert env["RAY_AUTH_MODE"]["value"] == "token", f"{container['name']}: the same mode as the Ray pods"
        assert env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"] == {
            "name": auth["secretName"],
            "key": "auth_token",
        }, f"{container['name']}: the token from the Secret KubeRay gives the Ray pods (its key is auth_token)"
    assert (auth is None) == (value_set == "monitoring-off"), "on by default"


def test_only_the_release_hook_restarts_the_scheduler_never_the_reconcile_cronjob():
    objects = render(VALUE_SETS["district"])
    hook = containers(deploy_job(objects))["deploy"]["command"]
    cron = only(objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    reconcile = containers(cron)["deploy"]["command"]
    assert parse(build_parser(), hook[1:]).restart_scheduler is True, "the upgrade that asks for it restarts it"
    args = parse(build_parser(), reconcile[1:])
    assert args.restart_scheduler is False, "a scheduled reconcile never restarts the scheduler"
    assert args.keep_unlisted is True and args.func is deploy_cmd.run, "otherwise the same deploy step"
