"""Camera tamper detection on analysed frames: a view gone black, uniform, out of focus or moved.

A few times a second of footage (`fps`) an analysed frame is shrunk to `width`
pixels and turned grey, and four conditions are checked, in this order (the
first that holds is the sample's condition, because each implies the next ones:
a black view is uniform, a uniform view has no sharpness, a blurred view has no
edges in place):

- black: mean grey level <= `black_max_brightness`;
- uniform (covered, sprayed): standard deviation of the grey levels <
  `uniform_max_stddev`;
- defocus: sharpness (variance of the Laplacian) < `defocus_ratio` x the
  camera's own learnt sharpness;
- moved: two resemblances to the learnt view are both low. The scene's
  similarity: the median, over a grid of blocks, of the correlation between the
  blurred, very small view and the learnt one, at most `moved_max_similarity`
  (traffic alone can lower it: cars covering half the view). The still edges:
  of the edges that stay put in the learnt view (present in most samples, so
  passing traffic does not make them), no more than `moved_max_edge_share` are
  found in place, within a pixel (a repetitive scene alone can fool this: a
  shift lands painted lines on other lines). A real move lowers both. A view
  with too few still edges (`min_still_edges`, e.g. a bare road) is judged on
  its similarity alone.

Learning. The first `learn_s` of footage (samples that are neither black nor
uniform) teach the sharpness, the small view and the still edges; afterwards both follow the
view slowly (exponential average, time constant `refresh_s`), but only while
nothing is wrong, so a tampered view is never learnt as the normal one. After a
camera is re-aimed on purpose, change a tamper setting (or restart the camera)
to learn the new view.

Hysteresis. Each condition has its own incident:

    clear --holds for min_duration_s--> open (event start, at the first sample that held)
    open --clear for clear_s--> clear (event end, at the first clear sample)

so one covering of the lens is one event, whatever flickers in between.
Everything runs on media time; masked pixels (privacy masks) are left out of
every measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from cluster.config.health import TamperConfig
from cluster.domain import Event, EventType, Frame

from .emitter import EventEmitter
from .geometry import Polygon, polygons_mask
from .sampler import RateSchedule

TAMPER_RULE = "tamper"
KINDS = (EventType.TAMPER_BLACK, EventType.TAMPER_UNIFORM, EventType.TAMPER_DEFOCUS, EventType.TAMPER_MOVED)
STILL_EDGE_SHARE = 0.6  # an edge pixel present in this share of the learnt samples is still
SCENE_SIZE = (80, 45)  # the very small view the similarity compares (width, height)
SCENE_BLOCKS = (5, 3)  # blocks across and down whose correlations' median is the similarity
_CANNY_LOW, _CANNY_HIGH = 40, 100
_NEAR = np.ones((3, 3), np.uint8)  # "in place": within one pixel


@dataclass(frozen=True, slots=True)
class TamperSample:
    """What one sample measured: `TamperDetector.last_sample`, for tuning the thresholds
    on a camera's own footage."""

    pts: float
    brightness: float
    spread: float
    sharpness: float
    similarity: float | None  # of the small view to the learnt one; None while learning
    edges_in_place: float | None  # share of the still edges found; None while learning or too few
    condition: EventType | None


@dataclass(slots=True)
class _Incident:
    kind: EventType
    holding_since: tuple[float, float] | None = None  # (pts, wall time) the condition started holding
    clear_since: tuple[float, float] | None = None
    event: Event | None = None


class _LearntView:
    """The camera's normal view: its sharpness and its still edges."""

    def __init__(self) -> None:
        self.started_pts: float | None = None
        self.samples = 0
        self.sharpness = 0.0
        self.edge_presence: np.ndarray | None = None  # per pixel, share of samples with an edge
        self.scene: np.ndarray | None = None  # the small view, averaged
        self.shape: tuple[int, int] | None = None

    def fits(self, edges: np.ndarray) -> bool:
        return self.shape == edges.shape and self.edge_presence is not None and self.scene is not None

    def learn(self, pts: float, sharpness: float, edges: np.ndarray, scene: np.ndarray, weight: float | None) -> None:
        """Add a normal sample; `weight` None during the learning period (plain average)."""
        if not self.fits(edges):
            # First sample, or the frame size changed: what was learnt no longer fits.
            self.started_pts, self.samples, self.sharpness = None, 0, 0.0
            self.shape = (int(edges.shape[0]), int(edges.shape[1]))
            self.edge_presence = np.zeros(edges.shape, np.float32)
            self.scene = np.zeros(scene.shape, np.float32)
        assert self.edge_presence is not None and self.scene is not None
        if self.started_pts is None:
            self.started_pts = pts
        self.samples += 1
        alpha = 1.0 / self.samples if weight is None else weight
        self.sharpness += alpha * (sharpness - self.sharpness)
        cv2.accumulateWeighted(edges.astype(np.float32), self.edge_presence, alpha)
        cv2.accumulateWeighted(scene, self.scene, alpha)


class TamperDetector:
    """Samples analysed frames and opens and closes tamper incidents as events."""

    def __init__(self, config: TamperConfig, masks: Sequence[Polygon] = ()) -> None:
        self.config = config
        self.masks = tuple(masks)
        self.schedule = RateSchedule(config.fps)
        self.view = _LearntView()
        self.incidents = {kind: _Incident(kind) for kind in KINDS}
        self.last_sample: TamperSample | None = None
        self._allowed_shape: tuple[int, int] | None = None
        self._allowed: np.ndarray | None = None  # 255 where the measures look
        self._edge_allowed: np.ndarray | None = None  # the same, away from mask borders
        self._last: tuple[float, float] = (0.0, 0.0)

    def continues(self, previous: TamperDetector) -> bool:
        """Whether this detector may carry on `previous`'s learning and incidents."""
        return previous.config == self.config and previous.masks == self.masks

    def take_over(self, previous: TamperDetector) -> None:
        self.schedule, self.view, self.incidents = previous.schedule, previous.view, previous.incidents
        self._last = previous._last

    def process(self, frame: Frame, image: np.ndarray, emitter: EventEmitter) -> bool:
        """Look at an analysed frame if a sample is due; True if it was sampled."""
        if not self.schedule.due(frame.pts):
            return False
        self._last = (frame.pts, frame.capture_time)
        sample = self._measure(frame.pts, image)
        self.last_sample = sample
        for kind, incident in self.incidents.items():
            self._step(incident, sample.condition is kind, frame, emitter)
        return True

    def finish(self, emitter: EventEmitter) -> None:
        """The footage ended: open incidents end at the last sample."""
        pts, wall_time = self._last
        for incident in self.incidents.values():
            if incident.event is not None:
                emitter.end(incident.event, end_pts=pts, end_time=wall_time)
                incident.event = None
            incident.holding_since = incident.clear_since = None

    # ---- measuring ---------------------------------------------------------------

    def _measure(self, pts: float, image: np.ndarray) -> TamperSample:
        config = self.config
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        height, width = grey.shape[:2]
        if width != config.width:
            size = (config.width, max(1, round(height * config.width / width)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        allowed, edge_allowed = self._allowed_area(grey.shape[1], grey.shape[0])
        mean, std = cv2.meanStdDev(grey, mask=allowed)
        brightness, spread = float(mean[0][0]), float(std[0][0])
        _, laplacian_std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_32F), mask=allowed)
        sharpness = float(laplacian_std[0][0]) ** 2
        edges = cv2.bitwise_and(cv2.Canny(cv2.GaussianBlur(grey, (0, 0), 1.0), _CANNY_LOW, _CANNY_HIGH), edge_allowed)
        scene = cv2.GaussianBlur(
            cv2.resize(grey, SCENE_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32), (0, 0), 1.0
        )

        view = self.view
        learning = view.started_pts is None or pts - view.started_pts < config.learn_s
        judged = not learning and view.fits(edges)
        similarity = self._similarity(scene) if judged else None
        edges_in_place = self._edges_in_place(edges) if judged else None
        moved = (
            similarity is not None
            and similarity <= config.moved_max_similarity
            and (edges_in_place is None or edges_in_place <= config.moved_max_edge_share)
        )

        condition: EventType | None = None
        if brightness <= config.black_max_brightness:
            condition = EventType.TAMPER_BLACK
        elif spread < config.uniform_max_stddev:
            condition = EventType.TAMPER_UNIFORM
        elif judged and sharpness < config.defocus_ratio * view.sharpness:
            condition = EventType.TAMPER_DEFOCUS
        elif moved:
            condition = EventType.TAMPER_MOVED

        quiet = all(i.event is None and i.holding_since is None for i in self.incidents.values())
        if condition is None and quiet:  # never learn a view that is (or was just) wrong
            weight = None if learning else min(1.0, 1.0 / (config.fps * config.refresh_s))
            view.learn(pts, sharpness, edges > 0, scene, weight)
        return TamperSample(pts, brightness, spread, sharpness, similarity, edges_in_place, condition)

    def _similarity(self, scene: np.ndarray) -> float:
        """Median over the blocks of the correlation of `scene` with the learnt one."""
        assert self.view.scene is not None
        reference = self.view.scene
        across, down = SCENE_BLOCKS
        height, width = scene.shape
        correlations = []
        for row in range(down):
            rows = slice(row * height // down, (row + 1) * height // down)
            for column in range(across):
                columns = slice(column * width // across, (column + 1) * width // across)
                a, b = scene[rows, columns], reference[rows, columns]
                a, b = a - a.mean(), b - b.mean()
                norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
                correlations.append(float((a * b).sum()) / norm if norm > 1e-6 else 0.0)
        return float(np.median(correlations))

    def _edges_in_place(self, edges: np.ndarray) -> float | None:
        assert self.view.edge_presence is not None
        still = self.view.edge_presence >= STILL_EDGE_SHARE
        still_count = int(np.count_nonzero(still))
        if still_count < self.config.min_still_edges * still.size:
            return None  # too bare a view to tell a move
        near = cv2.dilate(edges, _NEAR) > 0
        return float(np.count_nonzero(near & still)) / still_count

    def _allowed_area(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        if self._allowed_shape != (height, width) or self._allowed is None or self._edge_allowed is None:
            hidden = polygons_mask(self.masks, width, height) if self.masks else np.zeros((height, width), np.uint8)
            self._allowed = cv2.bitwise_not(hidden)
            # Mask borders are edges that never move: keep them out of the still edges.
            self._edge_allowed = cv2.bitwise_not(cv2.dilate(hidden, np.ones((5, 5), np.uint8)))
            self._allowed_shape = (height, width)
        return self._allowed, self._edge_allowed

    # ---- incidents ---------------------------------------------------------------

    def _step(self, incident: _Incident, holds: bool, frame: Frame, emitter: EventEmitter) -> None:
        now = (frame.pts, frame.capture_time)
        config = self.config
        if incident.event is None:
            if not holds:
                incident.holding_since = None
                return
            incident.holding_since = incident.holding_since or now
            start_pts, start_time = incident.holding_since
            if frame.pts - start_pts >= config.min_duration_s:
                incident.event = emitter.start(
                    incident.kind,
                    config.severity,
                    TAMPER_RULE,
                    start_pts=start_pts,
                    start_time=start_time,
                    thumbnail_of=frame,
                )
                incident.holding_since = None
            return
        if holds:
            incident.clear_since = None
            return
        incident.clear_since = incident.clear_since or now
        clear_pts, clear_time = incident.clear_since
        if frame.pts - clear_pts >= config.clear_s:
            emitter.end(incident.event, end_pts=clear_pts, end_time=clear_time)
            incident.event, incident.clear_since = None, None
