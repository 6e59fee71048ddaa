"""Latest-frame JPEGs are encoded once per frame and variant, whoever asks."""

from __future__ import annotations

import cv2
import numpy as np

from cluster.actors.jpeg import JpegCache
from cluster.domain import Frame


def frame(seq: int, width: int = 320, height: int = 180) -> Frame:
    image = np.full((height, width, 3), seq % 255, np.uint8)
    return Frame(sequence=seq, capture_time=1000.0 + seq, image=image)


def test_same_frame_and_variant_is_encoded_once():
    cache = JpegCache("cam", 80)
    f = frame(1)
    first = cache.get(f)
    for _ in range(5):
        again = cache.get(f)
    assert again is first and cache.encodes == 1, f"expected one encode, got {cache.encodes}"


def test_jpeg_decodes_to_the_frame_size():
    jpeg = JpegCache("cam", 80).get(frame(1))
    image = cv2.imdecode(np.frombuffer(jpeg.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3) and (jpeg.width, jpeg.height) == (320, 180)


def test_max_width_downscales_keeping_aspect():
    jpeg = JpegCache("cam", 80).get(frame(1), max_width=160)
    assert (jpeg.width, jpeg.height) == (160, 90)


def test_max_width_above_frame_width_keeps_full_size():
    cache = JpegCache("cam", 80)
    cache.get(frame(1))
    jpeg = cache.get(frame(1), max_width=4000)
    assert jpeg.width == 320 and cache.encodes == 1, "a wider max_width is the full-size variant"


def test_a_new_frame_drops_old_variants():
    cache = JpegCache("cam", 80)
    cache.get(frame(1), max_width=160)
    newer = cache.get(frame(2), max_width=160)
    assert newer.frame_sequence == 2 and cache.encodes == 2
