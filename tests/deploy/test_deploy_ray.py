"""`matthan deploy` against a real two-node Ray cluster it did not start
(`ray.cluster_utils.Cluster`: a head that takes no cameras, as the chart's
`num-cpus: 0`, and one camera worker): run twice, the second changes nothing; then a
changed config (one camera added, one changed, one removed) rolls forward and
restarts no camera it did not change.

The CLI runs in this process (`main([...])`): Ray is already connected, so
`ray_runtime.connect` keeps the connection, and the rest is the real command.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import ray
import yaml

from cluster.actors.camera_actor import actor_name
from cluster.cli.main import main
from cluster.eventwriter.actor import get_event_writer
from cluster.eventwriter.client import EventWriterClient
from cluster.scheduler.actor import get_scheduler
from cluster.scheduler.client import SchedulerClient
from tests.ray_cluster import start_cluster
from tests.scheduler.ray_helpers import named_camera_actors, tiny_clip, wait_until

pytestmark = pytest.mark.slow

WORKER_CPUS = 2


@pytest.fixture(scope="module")
def two_nodes():
    if ray.is_initialized():
        ray.shutdown()  # the session's single-node Ray, if a test started it
    cluster = start_cluster({"num_cpus": 0, "include_dashboard": False}, workers=[{"num_cpus": WORKER_CPUS}])
    try:
        ray.init(address=cluster.address, log_to_driver=False, logging_level="WARNING")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def deployment(two_nodes, tmp_path_factory):
    """A namespace and state dir of the module's own; the scheduler is shut down after."""
    namespace = f"deploy-{uuid.uuid4().hex[:8]}"
    directory = tmp_path_factory.mktemp("deploy")
    yield Deployment(namespace, directory / "state", tiny_clip(directory / "clips"), directory)
    actor = get_scheduler(namespace)
    if actor is not None:
        asyncio.run(SchedulerClient(actor, namespace).shutdown(stop_cameras=True))
    writer = get_event_writer(namespace)
    if writer is not None:
        asyncio.run(EventWriterClient(writer, namespace).shutdown())


class Deployment:
    def __init__(self, namespace: str, state_dir: Path, clip: Path, directory: Path):
        self.namespace, self.state_dir, self.clip, self.directory = namespace, state_dir, clip, directory
        self.runs = 0

    def camera(self, camera_id: str, fps: float = 1.0) -> dict:
        return {
            "id": camera_id,
            "source": {"url": str(self.clip), "loop": True, "realtime": True},
            "analysis": {"fps": fps},
        }

    def config_file(self, cameras: list[dict]) -> Path:
        self.runs += 1
        path = self.directory / f"cameras-{self.runs}.yaml"
        config = {
            "cameras": cameras,
            "runtime": {"ray": {"namespace": self.namespace}, "state_dir": str(self.state_dir)},
            "scheduler": {"tick_s": 0.5, "start_timeout_s": 240.0, "heartbeat_timeout_s": 60.0, "use_head_node": False},
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def deploy(self, config: Path, capsys) -> tuple[int, str]:
        code = main(["deploy", "--address", ray.get_runtime_context().gcs_address, "--config", str(config)])
        return code, capsys.readouterr().out

    def client(self) -> SchedulerClient:
        return SchedulerClient.connect(self.namespace)

    def views(self) -> dict:
        return {v.config.id: v for v in asyncio.run(self.client().list_cameras())}

    def actor_ids(self) -> dict[str, str]:
        """Camera id -> Ray actor id of its named actor: a restarted camera gets a new one."""
        return {
            camera_id: ray.get_actor(actor_name(camera_id), namespace=self.namespace)._actor_id.hex()
            for camera_id in named_camera_actors(self.namespace)
        }

    def all_live(self, ids: list[str]):
        views = self.views()
        live = sorted(i for i, v in views.items() if v.status is not None and v.status.state.value == "live")
        return (
            live == sorted(ids) and sorted(views) == sorted(ids) and named_camera_actors(self.namespace) == sorted(ids)
        )

    def describe(self) -> str:
        states = [(i, v.status.state.value if v.status else None) for i, v in self.views().items()]
        return f"views {states}, actors {named_camera_actors(self.namespace)}"


def test_deploy_twice_then_a_changed_config_rolls_forward(deployment, capsys):
    first = deployment.config_file([deployment.camera(c) for c in ("cam-a", "cam-b", "cam-c")])
    code, out = deployment.deploy(first, capsys)
    assert code == 0, f"the first deploy succeeds: {out}"
    assert "3 to add, 0 to update, 0 to remove, 0 unchanged" in out, f"the first deploy adds every camera: {out}"
    wait_until(lambda: deployment.all_live(["cam-a", "cam-b", "cam-c"]), 240, deployment.describe, poll_s=1.0)
    actors_before = deployment.actor_ids()

    code, out = deployment.deploy(first, capsys)
    assert code == 0, f"the second deploy succeeds: {out}"
    assert "0 to add, 0 to update, 0 to remove, 3 unchanged" in out, f"a second run plans nothing: {out}"
    assert "up to date: nothing changed" in out, f"and says so: {out}"
    assert deployment.actor_ids() == actors_before, "a second run restarts no camera actor"
    assert get_event_writer(deployment.namespace) is not None, "the event store's writer runs beside the scheduler"

    changed = deployment.config_file(
        [deployment.camera("cam-a"), deployment.camera("cam-b", fps=2.0), deployment.camera("cam-d")]
    )
    code, out = deployment.deploy(changed, capsys)
    assert code == 0, f"the changed deploy succeeds: {out}"
    for line in ("add cam-d", "update cam-b", "remove cam-c", "1 to add, 1 to update, 1 to remove, 1 unchanged"):
        assert line in out, f"the changed deploy plans {line!r}: {out}"
    wait_until(lambda: deployment.all_live(["cam-a", "cam-b", "cam-d"]), 240, deployment.describe, poll_s=1.0)
    views = deployment.views()
    assert views["cam-b"].config.analysis.fps == 2.0, "the changed camera runs its new config"
    after = deployment.actor_ids()
    assert after["cam-a"] == actors_before["cam-a"], "the unchanged camera was not restarted"
    assert "cam-c" not in after, "the removed camera's actor is gone"

    code, out = deployment.deploy(changed, capsys)
    assert code == 0 and "up to date: nothing changed" in out, (
        f"the changed config, deployed again, changes nothing: {out}"
    )


def test_dry_run_prints_the_plan_and_changes_nothing(deployment, capsys):
    config = deployment.config_file([deployment.camera("cam-a"), deployment.camera("cam-e")])
    before = sorted(deployment.views())
    code = main(["deploy", "--address", ray.get_runtime_context().gcs_address, "--config", str(config), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0, f"a dry run succeeds: {out}"
    assert "add cam-e" in out and "dry run" in out, f"it prints what would change: {out}"
    assert sorted(deployment.views()) == before, "a dry run changes nothing"


def test_keep_unlisted_leaves_cameras_the_config_does_not_list(deployment, capsys):
    current = sorted(deployment.views())
    config = deployment.config_file([deployment.camera(current[0])])
    code = main(
        ["deploy", "--address", ray.get_runtime_context().gcs_address, "--config", str(config), "--keep-unlisted"]
    )
    out = capsys.readouterr().out
    assert code == 0, f"the deploy succeeds: {out}"
    assert sorted(deployment.views()) == current, f"no camera is removed with --keep-unlisted: {out}"


def test_restart_scheduler_hands_the_cameras_to_a_scheduler_with_the_new_settings(deployment, capsys):
    views = deployment.views()
    current = sorted(views)
    actors_before = deployment.actor_ids()
    scheduler_before = get_scheduler(deployment.namespace)._actor_id.hex()
    config = deployment.config_file([v.config.model_dump(mode="json", exclude_defaults=True) for v in views.values()])
    text = yaml.safe_load(config.read_text(encoding="utf-8"))
    text["scheduler"]["heartbeat_timeout_s"] = 90.0  # a setting only a new scheduler takes
    config.write_text(yaml.safe_dump(text), encoding="utf-8")
    code = main(
        [
            "deploy",
            "--address",
            ray.get_runtime_context().gcs_address,
            "--config",
            str(config),
            "--restart-scheduler",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, f"the deploy succeeds: {out}"
    assert "ended the running scheduler" in out, f"it says what it did: {out}"
    assert get_scheduler(deployment.namespace)._actor_id.hex() != scheduler_before, "a new scheduler actor"
    assert "up to date: nothing changed" in out, f"which has the same camera set: {out}"
    wait_until(lambda: deployment.all_live(current), 120, deployment.describe, poll_s=1.0)
    assert deployment.actor_ids() == actors_before, "the new scheduler adopted the running camera actors"
