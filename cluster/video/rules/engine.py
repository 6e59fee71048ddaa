"""The rules of one camera over its tracked detections: every zone and line, and what
an update of the rules keeps.

`RuleEngine.process` runs on analysed frames whose detections were computed
(the detector ran, or motion regions were found) and tracked; `live_tracks`
are the tracker's live ids, so objects it dropped end their open events. It is
deterministic in the frames' media time: the file driver and the live camera
make the same events of the same footage.

Live updates. `take_over(previous)` continues an earlier engine of the same
camera: a rule whose settings did not change keeps its state (who is in the
zone, open loitering, which side of a line each track is on); a rule that was
changed or removed has its open events ended; a new rule starts empty.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Sequence

from cluster.config.rules import RulesConfig
from cluster.domain import Detection, Frame

from ..emitter import EventEmitter
from .lines import LineMonitor
from .zones import ZoneMonitor

Monitor = ZoneMonitor | LineMonitor


class RuleEngine:
    def __init__(self, config: RulesConfig, timezone: str) -> None:
        self.config = config
        self.timezone = timezone
        zone = zoneinfo.ZoneInfo(timezone)
        self.monitors: dict[str, Monitor] = {}
        for zone_rule in config.zones:
            self.monitors[zone_rule.name] = ZoneMonitor(zone_rule, zone, config.update_interval_s)
        for line_rule in config.lines:
            self.monitors[line_rule.name] = LineMonitor(line_rule, zone)

    def take_over(self, previous: RuleEngine, emitter: EventEmitter) -> None:
        """Continue `previous` (which no longer runs): keep unchanged rules, end the rest."""
        same_clock = previous.timezone == self.timezone and previous.config.update_interval_s == (
            self.config.update_interval_s
        )
        for name, old in previous.monitors.items():
            new = self.monitors.get(name)
            if same_clock and new is not None and type(new) is type(old) and new.config == old.config:
                self.monitors[name] = old
            else:
                old.close(emitter)

    def process(
        self, frame: Frame, detections: Sequence[Detection], live_tracks: Collection[int], emitter: EventEmitter
    ) -> None:
        for monitor in self.monitors.values():
            monitor.process(frame, detections, live_tracks, emitter)

    def finish(self, emitter: EventEmitter) -> None:
        """The footage ended: every tracked object is gone, every open event ends."""
        for monitor in self.monitors.values():
            monitor.finish(emitter)
