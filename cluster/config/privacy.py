"""Privacy masks: parts of a camera's view that nobody sees and nothing analyses."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import StrictModel
from .shapes import Point, check_polygon


class PrivacyConfig(StrictModel):
    """Polygons blacked out (or pixelated) in every frame as it is decoded, before the
    analysis, live frames, snapshots and event thumbnails see it. A detection whose box
    lies mostly (more than half its area) inside the masks is dropped: it is neither
    published nor made into an event. Unlike `analysis.motion.masks`, which only quiet
    the motion detector."""

    masks: list[list[Point]] = Field(
        default_factory=list,
        max_length=64,
        description="Polygons (normalised 0..1 points in order around each, edges not crossing) to hide.",
    )
    mode: Literal["black", "pixelate"] = Field(
        "black", description="'black' fills the masks with black; 'pixelate' shows coarse blocks of them."
    )
    pixelate_cells: int = Field(
        24, ge=4, le=400, description="Pixelate mode: blocks across the frame's width (fewer = coarser)."
    )

    @field_validator("masks")
    @classmethod
    def _simple_polygons(cls, masks: list[list[Point]]) -> list[list[Point]]:
        return [check_polygon(mask, simple=True) for mask in masks]
