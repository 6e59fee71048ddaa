"""Frame hooks: composition, the camera's hook, and retrieve_frame as the one way to a Frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster.config import CameraConfig, SourceConfig
from cluster.domain import Frame
from cluster.video.frame_hook import IDENTITY, ComposedHook, compose, frame_hook_for, retrieve_frame
from cluster.video.opening import open_source


class Mark:
    """Paints the top-left pixel (1, 2, 3), in place."""

    def apply(self, frame: Frame) -> Frame:
        frame.image[0, 0] = (1, 2, 3)
        return frame


class Add:
    """Adds `amount` to every pixel, in place, and records the call order."""

    def __init__(self, amount: int, calls: list[int]) -> None:
        self.amount, self.calls = amount, calls

    def apply(self, frame: Frame) -> Frame:
        self.calls.append(self.amount)
        frame.image[:] += self.amount
        return frame


def blank_frame() -> Frame:
    return Frame(sequence=1, capture_time=0.0, image=np.zeros((4, 6, 3), np.uint8), pts=0.0)


def test_identity_returns_the_frame_itself() -> None:
    frame = blank_frame()
    assert IDENTITY.apply(frame) is frame


def test_composed_hooks_run_in_order() -> None:
    calls: list[int] = []
    hook = compose([Add(1, calls), Add(2, calls)])
    frame = hook.apply(blank_frame())
    assert isinstance(hook, ComposedHook) and calls == [1, 2], f"calls {calls}"
    assert (frame.image == 3).all()


def test_composing_nothing_or_one_hook_adds_no_layer() -> None:
    single = Add(1, [])
    assert compose([]) is IDENTITY and compose([IDENTITY]) is IDENTITY
    assert compose([IDENTITY, single]) is single


def test_a_camera_without_privacy_masks_asks_for_no_transform() -> None:
    config = CameraConfig(id="cam", source=SourceConfig(url="/x.mp4"))
    assert frame_hook_for(config) is IDENTITY


def test_retrieve_frame_stamps_hooks_and_freezes_the_image(short_clip: Path) -> None:
    source = open_source(SourceConfig(url=str(short_clip), realtime=False))
    try:
        assert source.grab() and source.grab()
        frame = retrieve_frame(source, Mark(), sequence=2, capture_time=123.0)
    finally:
        source.release()

    assert frame is not None and frame.image.shape == (270, 480, 3)
    assert (frame.sequence, frame.capture_time, frame.pts) == (2, 123.0, pytest.approx(0.08)), f"{frame}"
    assert tuple(frame.image[0, 0]) == (1, 2, 3), "the hook's change must be in the frame"
    assert not frame.image.flags.writeable, "frames are shared with every reader: read-only"
