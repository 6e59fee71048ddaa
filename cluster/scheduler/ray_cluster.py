"""Every Ray call the scheduler makes: `ClusterBoundary` over a connected Ray.

Camera actors are:

- named `camera:<id>` in our namespace: names are unique cluster-wide, so two
  actors of one camera cannot exist, and a restarted scheduler finds them;
- detached: they outlive the scheduler actor (a non-detached actor dies with
  the worker that created it, so a scheduler restart would stop every camera);
- pinned with `NodeAffinitySchedulingStrategy(node_id, soft=False)`: they run
  where the plan put them or not at all (a dead target fails the creation);
- declaring `num_cpus` = their estimated cost, so Ray's accounting and the
  autoscaler see the real demand;
- `max_restarts=0`: the scheduler restarts them itself, counting and backing off,
  and placing them anew (Ray would restart them pinned to a dead node).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import ray
from ray.exceptions import ActorUnavailableError, RayActorError, RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..actors.camera_actor import ACTOR_NAME_PREFIX, CameraActor, actor_name
from ..config import CameraConfig
from .boundary import Gone, Heartbeat, NameTaken, NodeInfo, Probe, Silent, StartFailed

logger = logging.getLogger(__name__)

HEAD_RESOURCE = "node:__internal_head__"
NAME_RELEASE_WAIT_S = 5.0  # after ray.kill, how long to wait for the names to be free
NAME_POLL_S = 0.05


class RayCluster:
    def __init__(self, namespace: str, stop_timeout_s: float = 2.0):
        self.namespace = namespace
        self.stop_timeout_s = stop_timeout_s

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
            camera_id = name[len(ACTOR_NAME_PREFIX):]
            actor = self.lookup_camera_actor(camera_id)
            if actor is not None:
                found[camera_id] = actor
        return found

    def lookup_camera_actor(self, camera_id: str) -> object | None:
        try:
            return ray.get_actor(actor_name(camera_id), namespace=self.namespace)
        except ValueError:
            return None

    def start_camera(self, config: CameraConfig, node_id: str, cpus: float) -> object:
        try:
            return CameraActor.options(
                name=actor_name(config.id),
                namespace=self.namespace,
                lifetime="detached",
                num_cpus=cpus,
                max_restarts=0,
                max_task_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
            ).remote(config)
        except ValueError as exc:
            if "already" in str(exc).lower() or "exists" in str(exc).lower():
                raise NameTaken(str(exc)) from None
            raise StartFailed(str(exc)) from exc
        except RayError as exc:
            raise StartFailed(str(exc)) from exc

    def stop_cameras(self, actors: Mapping[str, object]) -> None:
        if not actors:
            return
        # Ask nicely first (closes streams, joins threads), all at once, briefly.
        refs = []
        for actor in actors.values():
            try:
                refs.append(actor.stop.remote())
            except Exception:  # noqa: BLE001 - already dead: ray.kill below is enough
                pass
        if refs:
            ray.wait(refs, num_returns=len(refs), timeout=self.stop_timeout_s)
        for camera_id, actor in actors.items():
            try:
                ray.kill(actor, no_restart=True)
            except Exception as exc:  # noqa: BLE001 - gone already
                logger.debug("camera %s: kill: %r", camera_id, exc)
        # The next actor of a moved camera reuses the name: wait until it is free.
        deadline = time.monotonic() + NAME_RELEASE_WAIT_S
        pending = {cid.split("#", 1)[0] for cid in actors}
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
                refs[camera_id] = actor.status.remote()
            except RayActorError as exc:
                results[camera_id] = Gone(_reason(exc))
        if refs:
            ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
        for camera_id, ref in refs.items():
            results[camera_id] = self._probe_result(ref)
        return results

    @staticmethod
    def _probe_result(ref) -> Probe:
        try:
            return Heartbeat(ray.get(ref, timeout=0))
        except ActorUnavailableError as exc:  # unreachable for now, not known dead
            return Silent(_reason(exc))
        except RayActorError as exc:
            return Gone(_reason(exc))
        except ray.exceptions.GetTimeoutError:
            return Silent("no answer within the poll timeout")
        except RayError as exc:
            name = type(exc).__name__
            if "Unschedulable" in name:  # pinned to a node that is gone or cannot fit it
                return Gone(_reason(exc))
            return Silent(f"{name}: {_reason(exc)}")

    def read_config(self, actor: object) -> CameraConfig:
        return ray.get(actor.config.remote(), timeout=10)

    def push_config(self, actor: object, config: CameraConfig) -> None:
        actor.update.remote(config)

    def request_capacity(self, bundles: list[dict[str, float]]) -> None:
        from ray.autoscaler.sdk import request_resources

        request_resources(bundles=bundles)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    # Ray's messages start with a generic line; the cause is usually further down.
    for line in text:
        if "died" in line.lower() or "killed" in line.lower() or "node" in line.lower():
            return line.strip()[:300]
    return (text[0] if text else type(exc).__name__)[:300]
