"""Every Ray call the scheduler makes: `ClusterBoundary` over a connected Ray.

Camera actors are:

- named `camera:<id>` in our namespace: names are unique cluster-wide, so two
  actors of one camera cannot exist, and a restarted scheduler finds them;
- detached: they outlive the scheduler actor (a non-detached actor dies with
  the worker that created it, so a scheduler restart would stop every camera);
- pinned with `NodeAffinitySchedulingStrategy(node_id, soft=False)`: they run
  where the plan put them or not at all (a dead target fails the creation);
- declaring the same small `num_cpus` (`capacity.RAY_CPUS_PER_CAMERA`): the
  scheduler's accounting of measured costs is the admission control, and Ray's
  stays consistent with it (see capacity.py);
- `max_restarts=0`: the scheduler restarts them itself, counting and backing off,
  and placing them anew (Ray would restart them pinned to a dead node).

Ray's outcomes are told apart by their types (`ActorUnavailableError` is "silent
for now", other `RayActorError`s and `ActorUnschedulableError` are "gone"), and a
taken name by looking the name up; never by the text of an error message.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping, Sequence

import ray
from ray.exceptions import (
    ActorPlacementGroupRemoved,
    ActorUnavailableError,
    ActorUnschedulableError,
    RayActorError,
    RayError,
)
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..actors.camera_actor import ACTOR_NAME_PREFIX, CameraActor, actor_name
from ..config import CameraConfig, SourceConfig
from .actions import StopActor
from .boundary import Gone, Heartbeat, NameTaken, NodeInfo, Probe, Silent, StartFailed
from .prior import SourceInfo
from .source_probe import FileProbe

logger = logging.getLogger(__name__)

HEAD_RESOURCE = "node:__internal_head__"
NAME_RELEASE_WAIT_S = 5.0  # after ray.kill, how long to wait for the names to be free
NAME_POLL_S = 0.05
READ_CONFIG_TIMEOUT_S = 10.0
# The actor will never run: its pinned node is gone or cannot fit it.
NEVER_RUNS = (ActorUnschedulableError, ActorPlacementGroupRemoved)


class RayCluster:
    def __init__(self, namespace: str, stop_timeout_s: float = 2.0):
        self.namespace = namespace
        self.stop_timeout_s = stop_timeout_s
        self._files = FileProbe()

    def list_nodes(self) -> list[NodeInfo]:
        nodes = []
        for n in ray.nodes():
            resources = n.get("Resources") or {}
            nodes.append(
                NodeInfo(
                    node_id=n["NodeID"],
                    address=n.get("NodeManagerAddress", ""),
                    alive=bool(n.get("Alive")),
                    cpus=float(resources.get("CPU", 0.0)),
                    is_head=HEAD_RESOURCE in resources or bool(n.get("IsHeadNode")),
                    labels={str(k): str(v) for k, v in (n.get("Labels") or {}).items()},
                )
            )
        return nodes

    def find_camera_actors(self) -> dict[str, object]:
        found = {}
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry.get("name", "")
            if entry.get("namespace") != self.namespace or not name.startswith(ACTOR_NAME_PREFIX):
                continue
            camera_id = name[len(ACTOR_NAME_PREFIX) :]
            actor = self.lookup_camera_actor(camera_id)
            if actor is not None:
                found[camera_id] = actor
        return found

    def lookup_camera_actor(self, camera_id: str) -> object | None:
        try:
            return ray.get_actor(actor_name(camera_id), namespace=self.namespace)
        except ValueError:  # no actor of that name (Ray's documented answer)
            return None

    def start_camera(self, config: CameraConfig, node_id: str, cpus: float) -> object:
        if self.lookup_camera_actor(config.id) is not None:
            raise NameTaken(f"an actor named {actor_name(config.id)!r} is still registered")
        try:
            # Ray's stubs type the decorated class as the plain class.
            return CameraActor.options(  # type: ignore[attr-defined]
                name=actor_name(config.id),
                namespace=self.namespace,
                lifetime="detached",
                num_cpus=cpus,
                max_restarts=0,
                max_task_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
            ).remote(config)
        except (ValueError, RayError) as exc:
            # Another actor may have taken the name since the look-up: ask again.
            if self.lookup_camera_actor(config.id) is not None:
                raise NameTaken(f"an actor named {actor_name(config.id)!r} is still registered") from None
            raise StartFailed(f"{type(exc).__name__}: {exc}") from exc

    def stop_cameras(self, stops: Sequence[StopActor]) -> None:
        if not stops:
            return
        # Ask nicely first (closes streams, joins threads), all at once, briefly.
        refs = []
        for stop in stops:
            with contextlib.suppress(RayError):  # already dead: ray.kill below is enough
                refs.append(stop.actor.stop.remote())  # type: ignore[attr-defined]
        if refs:
            ray.wait(refs, num_returns=len(refs), timeout=self.stop_timeout_s)
        for stop in stops:
            try:
                ray.kill(stop.actor, no_restart=True)  # type: ignore[arg-type]
            except (ValueError, RayError) as exc:  # gone already
                logger.debug("camera %s: kill: %r", stop.camera_id, exc)
        # The next actor of a moved camera reuses the name: wait until it is free.
        deadline = time.monotonic() + NAME_RELEASE_WAIT_S
        pending = {stop.camera_id for stop in stops}
        while pending and time.monotonic() < deadline:
            pending = {cid for cid in pending if self.lookup_camera_actor(cid) is not None}
            if pending:
                time.sleep(NAME_POLL_S)
        if pending:
            logger.info("names of stopped camera actors not yet released: %s", ", ".join(sorted(pending)))

    def probe(self, actors: Mapping[str, object], timeout_s: float) -> dict[str, Probe]:
        refs = {}
        results: dict[str, Probe] = {}
        for camera_id, actor in actors.items():
            try:
                refs[camera_id] = actor.status.remote()  # type: ignore[attr-defined]
            except RayActorError as exc:
                results[camera_id] = Gone(_describe(exc))
        if refs:
            ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
            answered = set(ready)
            for camera_id, ref in refs.items():
                results[camera_id] = (
                    _probe_result(ref)
                    if ref in answered
                    else Silent(f"no answer within the {timeout_s:g} s poll timeout")
                )
        return results

    def read_config(self, actor: object) -> CameraConfig:
        config = ray.get(actor.config.remote(), timeout=READ_CONFIG_TIMEOUT_S)  # type: ignore[attr-defined]
        if not isinstance(config, CameraConfig):
            raise TypeError(f"a camera actor answered config() with a {type(config).__name__}")
        return config

    def push_config(self, actor: object, config: CameraConfig) -> None:
        actor.update.remote(config)  # type: ignore[attr-defined]

    def request_capacity(self, bundles: list[dict[str, float]]) -> None:
        from ray.autoscaler.sdk import request_resources

        request_resources(bundles=bundles)

    def probe_source(self, source: SourceConfig) -> SourceInfo | None:
        return self._files.probe(source)


def _probe_result(ref: ray.ObjectRef) -> Probe:
    """What a finished status call says about its actor."""
    try:
        return Heartbeat(ray.get(ref, timeout=0))
    except ActorUnavailableError as exc:  # unreachable for now, not known dead
        return Silent(_describe(exc))
    except RayActorError as exc:
        return Gone(_describe(exc))
    except NEVER_RUNS as exc:
        return Gone(_describe(exc))
    except RayError as exc:
        return Silent(_describe(exc))


def _describe(exc: BaseException) -> str:
    """A short reason for logs and reports: the error's type and the last line of its
    message (Ray puts the cause last, after a generic first line)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else 'no detail'}"[:300]
