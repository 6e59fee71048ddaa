"""Per-camera analysis settings: motion, detector, tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel
from .shapes import Point, check_polygon


class MotionConfig(StrictModel):
    """Background subtraction (MOG2) on a downscaled grey frame."""

    enabled: bool = Field(True, description="Run motion detection at all.")
    width: int = Field(320, ge=32, le=1920, description="Width the frame is downscaled to for motion.")
    history: int = Field(200, ge=10, le=10000, description="Frames the background model remembers.")
    var_threshold: float = Field(25.0, gt=0, le=1000, description="MOG2 variance threshold; higher = less sensitive.")
    min_area: float = Field(
        0.002, ge=0.0, le=1.0, description="Smallest moving fraction of the frame that counts as motion."
    )
    masks: list[list[Point]] = Field(
        default_factory=list,
        description="Polygons (normalised 0..1 points) where motion is ignored, e.g. swaying trees, a road sign.",
    )
    gate_detector: bool = Field(True, description="Run the detector only on frames with motion.")
    report_regions: bool = Field(
        True, description="Without a detector, report moving regions as tracked 'motion' detections."
    )
    region_min_area: float = Field(
        0.0005, ge=0.0, le=1.0, description="Smallest moving blob (fraction of the frame) reported as a region."
    )

    @field_validator("masks")
    @classmethod
    def _polygons(cls, masks: list[list[Point]]) -> list[list[Point]]:
        return [check_polygon(m) for m in masks]


class DetectorConfig(StrictModel):
    """An object detector run through OpenCV's DNN module."""

    format: Literal["auto", "darknet", "onnx"] = Field(
        "auto", description="Model format; auto picks by file extension (.cfg darknet, .onnx ONNX)."
    )
    model: Path = Field(..., description="Darknet .cfg or ONNX .onnx file.")
    weights: Path | None = Field(None, description="Darknet .weights (defaults to the .cfg path with .weights).")
    names: Path | None = Field(None, description="Class names, one per line (defaults to coco.names beside the model).")
    onnx_layout: Literal["auto", "yolov5", "yolov8"] = Field(
        "auto", description="ONNX output layout: v5 (N,85 with objectness) or v8 (84,N transposed)."
    )
    input_size: int = Field(320, ge=32, le=1920, description="Network input side, a multiple of 32.")
    confidence: float = Field(0.25, gt=0.0, le=1.0, description="Minimum class confidence kept.")
    nms: float = Field(0.45, gt=0.0, le=1.0, description="IoU threshold of non-maximum suppression.")
    classes: list[str] | None = Field(None, description="Keep only these class names (None: all).")
    max_fps: float = Field(2.0, gt=0.0, le=60.0, description="Detector runs per second budget for this camera.")

    @field_validator("input_size")
    @classmethod
    def _multiple_of_32(cls, v: int) -> int:
        if v % 32:
            raise ValueError(f"input_size {v} is not a multiple of 32")
        return v

    @property
    def names_path(self) -> Path:
        """The class names file: `names`, or coco.names beside the model."""
        return self.names or self.model.parent / "coco.names"

    def class_names(self) -> tuple[str, ...]:
        """The classes this detector can report: `classes` if it keeps only those, else
        every name in its names file (read now; ValueError if it cannot be)."""
        if self.classes is not None:
            return tuple(self.classes)
        return read_class_names(self.names_path)


def read_class_names(path: Path) -> tuple[str, ...]:
    """The class names of a names file (one per line); ValueError naming the file if
    it is missing, not UTF-8 or empty."""
    if not path.is_file():
        raise ValueError(f"class names file {path} does not exist (set detector.names)")
    try:
        names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except UnicodeDecodeError as error:
        raise ValueError(f"class names file {path} is not UTF-8 text: {error}") from error
    if not names:
        raise ValueError(f"class names file {path} lists no class names")
    return names


class TrackerConfig(StrictModel):
    """Associates detections across frames to give them stable track ids."""

    enabled: bool = Field(True, description="Assign track ids.")
    method: Literal["iou", "centroid"] = Field("iou", description="Association metric.")
    iou_threshold: float = Field(0.2, gt=0.0, le=1.0, description="Minimum IoU to continue a track (iou method).")
    max_distance: float = Field(
        0.1, gt=0.0, le=1.0, description="Max centroid move as a fraction of the frame diagonal (centroid method)."
    )
    max_age_s: float = Field(
        3.0, gt=0.0, le=120.0, description="A track unseen this long is dropped; bridges detector misses."
    )
    per_class: bool = Field(True, description="Only associate detections of the same class.")


class AnalysisConfig(StrictModel):
    """How a camera's frames are analysed."""

    fps: float = Field(
        5.0,
        gt=0.0,
        le=60.0,
        description="Frames analysed per second of footage (chosen by their media time; the rest are skipped).",
    )
    min_fps: float | None = Field(
        None,
        gt=0.0,
        le=60.0,
        description="The lowest analysis rate the camera may lower itself to when its node is short of CPU "
        "(graceful overload: every camera degrades instead of some waiting); the scheduler admits it at its "
        "cost at this rate. None: never lowered, admitted at its full cost.",
    )
    width: int = Field(
        640, ge=64, le=3840, description="Frames wider than this are downscaled before analysis (keeps aspect)."
    )
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Motion stage.")
    detector: DetectorConfig | None = Field(None, description="Detector stage; None runs motion-only.")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracker stage.")
    opencv_threads: int = Field(
        1,
        ge=1,
        le=64,
        description=(
            "OpenCV worker threads of the camera's process (cv2.setNumThreads). 1 is the cheapest per frame "
            "(OpenCV's default, one per core, splits each resize, motion update and detector pass over threads "
            "that wait for each other and for the other cameras: about 20% more CPU per detection measured "
            "with bench.detector); more only lowers one heavy camera's detector latency on an idle node."
        ),
    )

    @model_validator(mode="after")
    def _floor_below_rate(self) -> AnalysisConfig:
        if self.min_fps is not None and self.min_fps > self.fps:
            raise ValueError(f"analysis.min_fps ({self.min_fps:g}) is above analysis.fps ({self.fps:g})")
        return self

    @model_validator(mode="after")
    def _detector_budget_fits(self) -> AnalysisConfig:
        if self.detector is not None and self.detector.max_fps > self.fps:
            # Not an error: the detector can never run faster than frames are analysed.
            self.detector.max_fps = self.fps
        return self
