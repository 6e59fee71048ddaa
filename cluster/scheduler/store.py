"""What the scheduler persists, so a restarted scheduler resumes where it was.

Two files in the state directory:

- `cameras.json`: the desired camera set, written by `DesiredStateStore`;
- `scheduler.json`: placement facts: the node and reserved CPUs of each camera
  actor, nodes being drained, restart counters, and the costs learnt from
  measurements: per camera, per camera shape, the node kinds' calibration and the
  sources' sizes (so a restarted scheduler balances and admits with the same numbers).

The desired set is the truth and an unreadable one is an error (it must never be
silently replaced by an empty set, which would stop every camera). The placement
file is only a hint (running actors are found by name and report their node), so
an unreadable one is logged and ignored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import CameraConfig
from ..support.atomic import write_json_atomically
from .cost import LearntCosts
from .desired_state import DesiredStateStore

logger = logging.getLogger(__name__)

PLACEMENT_FORMAT_VERSION = 1
CAMERAS_FILE = "cameras.json"
PLACEMENT_FILE = "scheduler.json"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a camera actor was started and what it reserved there."""

    node_id: str
    cpus: float


@dataclass
class PersistedState:
    cameras: list[CameraConfig]
    placements: dict[str, Placement] = field(default_factory=dict)
    draining: set[str] = field(default_factory=set)
    restarts: dict[str, int] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # learnt estimates, cores
    learnt: LearntCosts = field(default_factory=lambda: LearntCosts({}, {}, {}, {}))  # beyond single cameras


class SchedulerStateStore:
    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.desired = DesiredStateStore(self.state_dir / CAMERAS_FILE)
        self.placement_path = self.state_dir / PLACEMENT_FILE

    def load(self) -> PersistedState | None:
        """The persisted state, or None when no desired set was ever saved here.
        Raises ConfigError when the desired set exists but cannot be read."""
        cameras = self.desired.load()
        if cameras is None:
            return None
        state = PersistedState(cameras=cameras)
        try:
            raw = json.loads(self.placement_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return state
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning(
                "%s: ignoring unreadable placement state (%s); running actors are found by name",
                self.placement_path,
                exc,
            )
            return state
        try:
            if raw.get("version") != PLACEMENT_FORMAT_VERSION:
                raise ValueError(f"unknown format version {raw.get('version')!r}")
            state.placements = {
                cam: Placement(node_id=str(p["node_id"]), cpus=float(p["cpus"]))
                for cam, p in raw.get("placements", {}).items()
            }
            state.draining = {str(n) for n in raw.get("draining", [])}
            state.restarts = {str(cam): int(n) for cam, n in raw.get("restarts", {}).items()}
            state.costs = {str(cam): float(c) for cam, c in raw.get("costs", {}).items()}
            state.learnt = LearntCosts(
                shapes={str(k): float(v) for k, v in raw.get("shape_costs", {}).items()},
                settings={str(k): float(v) for k, v in raw.get("settings_costs", {}).items()},
                calibration={str(k): float(v) for k, v in raw.get("calibration", {}).items()},
                sources={str(url): (int(w), int(h), float(fps)) for url, (w, h, fps) in raw.get("sources", {}).items()},
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            logger.warning("%s: ignoring malformed placement state (%s)", self.placement_path, exc)
            return PersistedState(cameras=cameras)
        return state

    def save(self, state: PersistedState) -> None:
        """Desired set first: a crash between the two writes leaves a placement hint
        missing or stale, never a camera lost."""
        self.desired.save(state.cameras)
        payload = {
            "version": PLACEMENT_FORMAT_VERSION,
            "placements": {cam: {"node_id": p.node_id, "cpus": p.cpus} for cam, p in sorted(state.placements.items())},
            "draining": sorted(state.draining),
            "restarts": dict(sorted(state.restarts.items())),
            "costs": {cam: round(c, 6) for cam, c in sorted(state.costs.items())},
            "shape_costs": {k: round(v, 6) for k, v in sorted(state.learnt.shapes.items())},
            "settings_costs": {k: round(v, 6) for k, v in sorted(state.learnt.settings.items())},
            "calibration": {k: round(v, 6) for k, v in sorted(state.learnt.calibration.items())},
            "sources": {url: list(src) for url, src in sorted(state.learnt.sources.items())},
        }
        write_json_atomically(self.placement_path, payload)
