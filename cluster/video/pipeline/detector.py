"""Object detection through OpenCV's DNN module: Darknet YOLO (cfg + weights) and
ONNX YOLO exports (YOLOv5 and YOLOv8 output layouts).

Preprocessing is a letterbox: the frame is scaled to fit `input_size` keeping its
aspect ratio and padded with grey (114, as the YOLO exporters do). On the shared
parking-lot clip it doubles the `car` hit rate of Yolo-Fastest-xl at 416 compared
with a plain stretch (about 80% of frames instead of 40%), and it is what YOLOv5/v8
exports are trained with. Boxes are mapped back through the letterbox and returned
normalised to the frame (0..1), so they do not depend on any resolution.

Non-maximum suppression is per class (cv2.dnn.NMSBoxesBatched): a `cell phone`
ghost box on a car must not suppress the `car` box under it.

Darknet note: OpenCV's YOLO layer already multiplies class scores by objectness and
zeroes scores below 0.2, so a `confidence` below 0.2 finds nothing more there.

Threads: this module never calls cv2.setNumThreads; that is the caller's choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from cluster.config.analysis import DetectorConfig, read_class_names
from cluster.domain import Box, Detection

Layout = Literal["darknet", "yolov5", "yolov8"]

PAD_VALUE = 114  # grey padding of the letterbox, as in the YOLO exporters
_DARKNET_HEADER_BYTES_V2 = 20  # major, minor, revision (int32) + images seen (int64)
_DARKNET_HEADER_BYTES_V1 = 16  # images seen as int32 in weights files before version 0.2


class ModelError(ValueError):
    """A detector model that cannot be used: missing, corrupt, or inconsistent.
    Retrying does not help, so a camera with one goes to FAILED with this message."""


@runtime_checkable
class Detector(Protocol):
    """What the pipeline needs from a detector."""

    class_names: tuple[str, ...]

    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        """Objects in a BGR HxWx3 uint8 image, boxes normalised, `track_id` None."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LetterboxGeometry:
    """How a frame was placed in the square network input, to map boxes back."""

    frame_width: int
    frame_height: int
    scale_x: float  # input pixels per frame pixel (x and y differ by rounding only)
    scale_y: float
    pad_left: int
    pad_top: int

    def to_frame_boxes(self, xyxy: np.ndarray) -> np.ndarray:
        """(K, 4) x0, y0, x1, y1 in input pixels -> same in normalised frame
        coordinates, clipped to 0..1."""
        out = np.empty_like(xyxy, dtype=np.float64)
        out[:, [0, 2]] = (xyxy[:, [0, 2]] - self.pad_left) / self.scale_x / self.frame_width
        out[:, [1, 3]] = (xyxy[:, [1, 3]] - self.pad_top) / self.scale_y / self.frame_height
        return np.clip(out, 0.0, 1.0)


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, LetterboxGeometry]:
    """Scale `image` to fit a size x size square keeping its aspect, pad the rest."""
    height, width = image.shape[:2]
    ratio = min(size / width, size / height)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left, top = (size - new_w) // 2, (size - new_h) // 2
    padded = cv2.copyMakeBorder(
        resized, top, size - new_h - top, left, size - new_w - left, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    geometry = LetterboxGeometry(width, height, new_w / width, new_h / height, left, top)
    return padded, geometry


# --- decoding: every layout becomes (boxes cx, cy, w, h in input pixels, class scores) ---


def decode_darknet(outputs: Sequence[np.ndarray], input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's Darknet YOLO layers give (N, 5 + C) rows: cx, cy, w, h normalised to
    the input, objectness, then class scores already multiplied by objectness."""
    rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in outputs], axis=0)
    return rows[:, :4] * float(input_size), rows[:, 5:]


def decode_yolov5(output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1, N, 5 + C): cx, cy, w, h in input pixels, objectness, class probabilities."""
    rows = output.reshape(-1, output.shape[-1])
    return rows[:, :4], rows[:, 5:] * rows[:, 4:5]


def decode_yolov8(output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1, 4 + C, N), transposed: cx, cy, w, h in input pixels, class scores; no objectness."""
    rows = output.reshape(output.shape[-2], output.shape[-1]).T
    return rows[:, :4], rows[:, 4:]


def detect_onnx_layout(shape: tuple[int, ...], class_count: int) -> Literal["yolov5", "yolov8"] | None:
    """Which export layout an output shape is, given the class count; None if neither."""
    if len(shape) != 3:
        return None
    fits_v5 = shape[2] == class_count + 5
    fits_v8 = shape[1] == class_count + 4
    if fits_v5 and fits_v8:  # only when N happens to equal the other width: more rows than columns
        return "yolov5" if shape[1] >= shape[2] else "yolov8"
    if fits_v5:
        return "yolov5"
    if fits_v8:
        return "yolov8"
    return None


def select_detections(
    boxes_cxcywh: np.ndarray,
    class_scores: np.ndarray,
    geometry: LetterboxGeometry,
    class_names: Sequence[str],
    confidence: float,
    nms: float,
    allowed_class_ids: Sequence[int] | None = None,
) -> tuple[Detection, ...]:
    """Best class per candidate (among the allowed ones), confidence threshold,
    per-class NMS, and mapping back to normalised frame boxes."""
    if boxes_cxcywh.shape[0] == 0:
        return ()
    if allowed_class_ids is not None:
        # Choose among the allowed classes only: a car whose best guess is "cell phone"
        # should still count as a car when only cars are asked for.
        allowed = np.asarray(allowed_class_ids, dtype=np.int64)
        best_col = np.argmax(class_scores[:, allowed], axis=1)
        class_ids = allowed[best_col]
    else:
        class_ids = np.argmax(class_scores, axis=1)
    scores = class_scores[np.arange(len(class_ids)), class_ids]
    keep = scores >= confidence
    if not np.any(keep):
        return ()
    boxes, scores, class_ids = boxes_cxcywh[keep], scores[keep], class_ids[keep]
    xywh = np.column_stack((boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2, boxes[:, 2], boxes[:, 3]))
    survivors = cv2.dnn.NMSBoxesBatched(
        xywh.astype(np.float64).tolist(), scores.astype(float).tolist(), class_ids.tolist(), confidence, nms
    )
    kept = np.asarray(survivors, dtype=np.int64).reshape(-1)
    xyxy = np.column_stack((xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2], xywh[:, 1] + xywh[:, 3]))
    frame_xyxy = geometry.to_frame_boxes(xyxy[kept])
    detections = []
    for (x0, y0, x1, y1), index in zip(frame_xyxy, kept, strict=True):
        if x1 <= x0 or y1 <= y0:
            continue  # entirely in the padding or outside the frame
        class_id = int(class_ids[index])
        box = Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        detections.append(Detection(class_id, class_names[class_id], float(scores[index]), box))
    detections.sort(key=lambda d: -d.confidence)
    return tuple(detections)


class DnnDetector:
    """A loaded cv2.dnn network with its decoding; build it with `load_detector`."""

    def __init__(
        self,
        net: cv2.dnn.Net,
        config: DetectorConfig,
        class_names: tuple[str, ...],
        layout: Layout,
        allowed_class_ids: tuple[int, ...] | None,
    ) -> None:
        self._net = net
        self._output_names = list(net.getUnconnectedOutLayersNames())
        self.config = config.model_copy(deep=True)  # later edits to the caller's config must not half-apply
        self.class_names = class_names
        self.layout: Layout = layout
        self.allowed_class_ids = allowed_class_ids

    def detect(self, image: np.ndarray) -> tuple[Detection, ...]:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a BGR HxWx3 image, got shape {image.shape}")
        size = self.config.input_size
        padded, geometry = letterbox(image, size)
        self._net.setInput(cv2.dnn.blobFromImage(padded, 1.0 / 255.0, (size, size), swapRB=True, crop=False))
        outputs = self._net.forward(self._output_names)
        boxes, scores = self._decode(outputs)
        return select_detections(
            boxes,
            scores,
            geometry,
            self.class_names,
            self.config.confidence,
            self.config.nms,
            self.allowed_class_ids,
        )

    def _decode(self, outputs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if self.layout == "darknet":
            return decode_darknet(outputs, self.config.input_size)
        output = _onnx_detection_output(outputs, self.config.model)
        return decode_yolov5(output) if self.layout == "yolov5" else decode_yolov8(output)

    def describe(self) -> str:
        classes = ",".join(self.config.classes) if self.config.classes else f"all {len(self.class_names)} classes"
        size = self.config.input_size
        settings = f"{self.layout}, {size}x{size} letterbox, conf {self.config.confidence}, {classes}"
        return f"{self.config.model.name} ({settings})"


def _onnx_detection_output(outputs: Sequence[np.ndarray], model: Path) -> np.ndarray:
    """The detection tensor among an ONNX model's outputs: the first 3-D one (older
    YOLOv5 exports also emit 5-D per-scale tensors beside it)."""
    for output in outputs:
        if output.ndim == 3:
            return output
    shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
    raise ModelError(f"ONNX model {model} has no 3-D detection output among its outputs ({shapes})")


def _cv2_reason(error: cv2.error) -> str:
    """The useful sentence of a cv2.error, without source paths and function names."""
    text = " ".join(str(error).split())
    match = re.search(r"error: \(-?\d+:([^)]*)\) (.*?)(?: in function '[^']*')?$", text)
    if not match:
        return text
    category, detail = match.groups()
    if category == "Assertion failed":  # the detail is a C++ expression: say what it means
        return f"not in the expected format (OpenCV's reader failed the check `{detail}`)"
    return detail


def _read_names(path: Path) -> tuple[str, ...]:
    try:
        return read_class_names(path)
    except ValueError as error:
        raise ModelError(str(error)) from error


def _resolve_format(config: DetectorConfig) -> Literal["darknet", "onnx"]:
    if config.format != "auto":
        return config.format
    suffix = config.model.suffix.lower()
    if suffix == ".cfg":
        return "darknet"
    if suffix == ".onnx":
        return "onnx"
    raise ModelError(
        f"cannot tell the format of model file {config.model} from its extension {suffix or '(none)'}; "
        "use .cfg (Darknet) or .onnx, or set detector.format"
    )


def _check_darknet_weights_size(net: cv2.dnn.Net, weights: Path) -> None:
    """OpenCV reads a Darknet weights file without checking its length, so random
    bytes or the weights of another cfg load "fine" and detect garbage. Darknet
    writes exactly a header plus every layer's parameters, so the size must match."""
    parameters = 0
    for name in net.getLayerNames():
        layer = net.getLayer(net.getLayerId(name))
        if layer.type == "Region":
            continue  # its blob holds the cfg's anchors, not weights
        parameters += sum(int(blob.size) for blob in layer.blobs)
    header = np.fromfile(weights, dtype=np.int32, count=2)
    major, minor = (int(header[0]), int(header[1])) if header.size == 2 else (0, 0)
    header_bytes = _DARKNET_HEADER_BYTES_V2 if major * 10 + minor >= 2 else _DARKNET_HEADER_BYTES_V1
    expected = header_bytes + 4 * parameters
    actual = weights.stat().st_size
    if actual != expected:
        raise ModelError(
            f"weights file {weights} does not fit its cfg: the network needs {expected} bytes, "
            f"the file has {actual} (corrupt, truncated, or the weights of another model)"
        )


def _read_net(config: DetectorConfig, model_format: Literal["darknet", "onnx"]) -> cv2.dnn.Net:
    model = config.model
    if model_format == "darknet":
        weights = config.weights or model.with_suffix(".weights")
        if not weights.is_file():
            raise ModelError(f"weights file {weights} does not exist (set detector.weights)")
        try:
            net = cv2.dnn.readNetFromDarknet(str(model), str(weights))
        except cv2.error as error:
            raise ModelError(
                f"{model} with weights {weights} is not a usable Darknet model: {_cv2_reason(error)}"
            ) from error
        if net.empty():
            raise ModelError(f"{model} is not a usable Darknet cfg: OpenCV built an empty network from it")
        _check_darknet_weights_size(net, weights)
    else:
        try:
            net = cv2.dnn.readNetFromONNX(str(model))
        except cv2.error as error:
            raise ModelError(f"{model} is not a usable ONNX model: {_cv2_reason(error)}") from error
        if net.empty():
            raise ModelError(f"{model} is not a usable ONNX model: OpenCV built an empty network from it")
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def _probe_layout(net: cv2.dnn.Net, config: DetectorConfig, model_format: str, class_count: int) -> Layout:
    """Run one blank input through the network (catching models that load but cannot
    run at this input size) and check its outputs against the names file."""
    size = config.input_size
    net.setInput(np.zeros((1, 3, size, size), dtype=np.float32))
    try:
        outputs = net.forward(list(net.getUnconnectedOutLayersNames()))
    except cv2.error as error:
        raise ModelError(f"model {config.model} fails to run at input_size {size}: {_cv2_reason(error)}") from error
    if model_format == "darknet":
        widths = {int(o.shape[-1]) for o in outputs}
        if len(widths) != 1 or min(widths) < 6:
            raise ModelError(f"model {config.model} has no YOLO output layers OpenCV can decode")
        network_classes = widths.pop() - 5
        if network_classes != class_count:
            raise ModelError(
                f"class names file lists {class_count} classes but model {config.model} outputs {network_classes}"
            )
        return "darknet"
    output = _onnx_detection_output(outputs, config.model)
    shape = tuple(int(d) for d in output.shape)
    if config.onnx_layout == "auto":
        layout = detect_onnx_layout(shape, class_count)
        if layout is None:
            raise ModelError(
                f"ONNX output shape {shape} of {config.model} matches neither yolov5 (1, N, {class_count + 5}) "
                f"nor yolov8 (1, {class_count + 4}, N) for the {class_count} classes of the names file; "
                "check the names file or set detector.onnx_layout"
            )
        return layout
    network_classes = shape[2] - 5 if config.onnx_layout == "yolov5" else shape[1] - 4
    if len(shape) != 3 or network_classes != class_count:
        raise ModelError(
            f"class names file lists {class_count} classes but the {config.onnx_layout} output shape {shape} "
            f"of {config.model} holds {network_classes}"
        )
    return config.onnx_layout


def load_detector(config: DetectorConfig) -> DnnDetector:
    """Load and check a detector; every problem is a ModelError that names the file."""
    model = config.model
    if not model.exists():
        raise ModelError(f"model file {model} does not exist")
    if not model.is_file():
        raise ModelError(f"model path {model} is not a file")
    model_format = _resolve_format(config)
    names_path = config.names_path
    class_names = _read_names(names_path)
    allowed: tuple[int, ...] | None = None
    if config.classes is not None:
        unknown = [name for name in config.classes if name not in class_names]
        if unknown:
            raise ModelError(
                f"unknown class names in detector.classes: {', '.join(repr(n) for n in unknown)} (not in {names_path})"
            )
        allowed = tuple(sorted({class_names.index(name) for name in config.classes}))
    net = _read_net(config, model_format)
    layout = _probe_layout(net, config, model_format, len(class_names))
    return DnnDetector(net, config, class_names, layout, allowed)
