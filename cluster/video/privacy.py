"""Privacy masks: the frame hook that hides them, and the filter that drops detections in them.

`PrivacyHook` is installed as the camera's frame hook (`frame_hook_for`), so the
masked pixels are black (or coarse blocks) in every frame before the analysis,
live JPEGs, snapshots and event thumbnails see it: there is no unmasked image
to read. `MaskCoverage` then keeps the analysis from making anything of a
masked area: a detection whose box lies mostly (more than half of its area)
inside the masks is dropped before the tracker, so it is neither published nor
made into an event. The box, not its anchor point, decides, because a person
standing in a masked yard must vanish even if their feet reach the street.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from cluster.config.privacy import PrivacyConfig
from cluster.domain import Box, Detection, Frame

from .geometry import Polygon, polygons_mask

# Resolution of the grid on which box coverage is measured (normalised
# coordinates, so the frame's aspect does not matter): 1/256 of the frame.
COVERAGE_GRID = 256
MOSTLY_MASKED = 0.5  # a detection with more than this share of its box masked is dropped


class PrivacyHook:
    """Blacks out or pixelates the privacy masks, in place, in every decoded frame."""

    def __init__(self, config: PrivacyConfig) -> None:
        if not config.masks:
            raise ValueError("a privacy hook needs at least one mask")
        self.config = config
        self.polygons = tuple(Polygon.of(points) for points in config.masks)
        self._shape: tuple[int, int] | None = None
        self._mask: np.ndarray | None = None  # HxW bool, True where hidden
        self._region: tuple[slice, slice] = (slice(0), slice(0))  # bounding box of the masks

    def mask_for(self, width: int, height: int) -> np.ndarray:
        """The HxW boolean image of the hidden pixels (cached per frame size)."""
        if self._shape != (height, width) or self._mask is None:
            mask = polygons_mask(self.polygons, width, height) > 0
            rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
            if rows.size:
                self._region = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
            else:
                self._region = (slice(0), slice(0))
            self._shape, self._mask = (height, width), mask
        return self._mask

    def apply(self, frame: Frame) -> Frame:
        image = frame.image
        height, width = image.shape[:2]
        mask = self.mask_for(width, height)
        rows, columns = self._region
        region, hidden = image[rows, columns], mask[rows, columns]
        if not hidden.size:
            return frame
        if self.config.mode == "pixelate":
            cell = max(2, round(width / self.config.pixelate_cells))
            small_size = (max(1, region.shape[1] // cell), max(1, region.shape[0] // cell))
            small = cv2.resize(region, small_size, interpolation=cv2.INTER_AREA)
            blocks = cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST)
            region[hidden] = blocks[hidden]
        else:
            region[hidden] = 0
        return frame


class MaskCoverage:
    """How much of a (normalised) box the privacy masks cover."""

    def __init__(self, polygons: Sequence[Polygon]) -> None:
        self.polygons = tuple(polygons)
        mask = polygons_mask(self.polygons, COVERAGE_GRID, COVERAGE_GRID) > 0
        self._integral = cv2.integral(mask.astype(np.uint8))  # (grid + 1) x (grid + 1)

    def covered(self, box: Box) -> float:
        """Share of the box's area inside the masks, 0..1 (measured on the grid)."""
        x0, y0 = _cell(box.x), _cell(box.y)
        x1, y1 = max(x0 + 1, _cell(box.x + box.w)), max(y0 + 1, _cell(box.y + box.h))
        x1, y1 = min(x1, COVERAGE_GRID), min(y1, COVERAGE_GRID)
        x0, y0 = min(x0, x1 - 1), min(y0, y1 - 1)
        integral = self._integral
        inside = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        return float(inside) / ((x1 - x0) * (y1 - y0))

    def visible(self, detections: Sequence[Detection]) -> tuple[Detection, ...]:
        """The detections that are not mostly masked."""
        return tuple(d for d in detections if self.covered(d.box) <= MOSTLY_MASKED)


def _cell(value: float) -> int:
    return max(0, min(COVERAGE_GRID, round(value * COVERAGE_GRID)))
