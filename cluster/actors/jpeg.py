"""JPEG encoding of the latest frame, once per frame and variant however many readers."""

from __future__ import annotations

import threading

import cv2

from ..domain import Frame, JpegFrame


class JpegCache:
    """Keeps the JPEGs of the newest frame, keyed by (max_width, quality).

    Readers asking for the same frame and variant share one encode; a new frame
    drops the old variants. Encoding happens outside the lock so a slow encode of
    one variant does not block readers of another.
    """

    def __init__(self, camera_id: str, default_quality: int):
        self.camera_id = camera_id
        self.default_quality = default_quality
        self._lock = threading.Lock()
        self._frame_sequence = -1
        self._variants: dict[tuple[int, int], JpegFrame] = {}
        self.encodes = 0  # how many times we actually ran the encoder

    def get(self, frame: Frame, max_width: int = 0, quality: int = 0) -> JpegFrame:
        height, width = frame.image.shape[:2]
        if max_width <= 0 or max_width >= width:
            max_width = 0  # full size
        quality = quality or self.default_quality
        key = (max_width, quality)
        with self._lock:
            if self._frame_sequence == frame.sequence and key in self._variants:
                return self._variants[key]
        image = frame.image
        if max_width:
            height = max(1, round(height * max_width / width))
            width = max_width
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"camera {self.camera_id}: JPEG encoding failed")
        encoded = JpegFrame(
            camera_id=self.camera_id,
            frame_sequence=frame.sequence,
            capture_time=frame.capture_time,
            width=width,
            height=height,
            jpeg=buf.tobytes(),
        )
        with self._lock:
            self.encodes += 1
            if frame.sequence > self._frame_sequence:
                self._frame_sequence = frame.sequence
                self._variants = {}
            if frame.sequence == self._frame_sequence:
                self._variants.setdefault(key, encoded)
                return self._variants[key]
        return encoded
