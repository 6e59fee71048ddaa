"""What a caller asks of the job manager, and the error a request that cannot be a job gets.

Either `files` (paths or globs on the server) or a recorded range (`recorded_from`,
`recorded_to`: epoch seconds, the camera's own recordings), never both.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.config import AnalysisConfig, RulesConfig


@dataclass(frozen=True, slots=True)
class ReprocessRequest:
    """What a caller asks for. `rules`/`analysis` replace the camera's for this job
    only; `fps` replaces `analysis.fps`; `start_time` is ISO 8601 (see timestamps).
    `recorded_from`/`recorded_to`: reprocess what the camera recorded in
    [from, to) instead of `files` (planning.py, recorded.py)."""

    camera_id: str
    files: tuple[str, ...] = ()
    start_time: str | None = None
    rules: RulesConfig | None = None
    analysis: AnalysisConfig | None = None
    fps: float | None = None
    segment_s: float | None = None
    recorded_from: float | None = None
    recorded_to: float | None = None

    @property
    def recorded(self) -> bool:
        return self.recorded_from is not None or self.recorded_to is not None


class RequestError(ValueError):
    """A request that cannot become a job; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self):
        return (type(self), (self.field, self.message))
