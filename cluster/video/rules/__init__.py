"""Event rules on tracked detections: zones (enter, leave, loitering, occupancy) and
counting lines (crossings with a direction), with filters and time windows.

Plain Python over the tracker's output; the pipeline runs `RuleEngine` as its
rules stage (`cluster.video.pipeline.event_stages`), on media time.
"""

from .engine import RuleEngine
from .filters import DetectionFilter
from .lines import LineMonitor
from .zones import ZoneMonitor

__all__ = ["DetectionFilter", "LineMonitor", "RuleEngine", "ZoneMonitor"]
