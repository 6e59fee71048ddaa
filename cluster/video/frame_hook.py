"""Frame hooks: the one place a per-camera transform is applied to decoded frames.

Every consumer of a camera's pixels (the analysis, live JPEGs and snapshots, and
later recording export and event thumbnails) gets its frames from
`retrieve_frame`, which decodes the frame a source last grabbed and passes it
through the camera's hook before anything else can see it. A privacy mask
installed as a hook therefore cannot be bypassed: there is no unhooked image to
read. The live capture loop and the file driver both decode through here.

A camera's configuration asks for its privacy masks (`privacy.masks`,
`cluster.video.privacy.PrivacyHook`); without masks `frame_hook_for` gives the
identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from cluster.config import CameraConfig
from cluster.domain import Frame

from .privacy import PrivacyHook


class FrameHook(Protocol):
    """A transform of decoded frames. `apply` gets a freshly decoded frame whose
    image nobody else has seen yet, so it may change the image in place, and
    returns the frame every consumer will get (BGR, HxWx3, uint8)."""

    def apply(self, frame: Frame) -> Frame: ...


class IdentityHook:
    """No transform."""

    def apply(self, frame: Frame) -> Frame:
        return frame


IDENTITY = IdentityHook()


class ComposedHook:
    """Several hooks, applied in order."""

    def __init__(self, hooks: Sequence[FrameHook]) -> None:
        self.hooks = tuple(hooks)

    def apply(self, frame: Frame) -> Frame:
        for hook in self.hooks:
            frame = hook.apply(frame)
        return frame


def compose(hooks: Sequence[FrameHook]) -> FrameHook:
    """One hook applying `hooks` in order (the identity for none)."""
    meaningful = [hook for hook in hooks if hook is not IDENTITY]
    if not meaningful:
        return IDENTITY
    if len(meaningful) == 1:
        return meaningful[0]
    return ComposedHook(meaningful)


def frame_hook_for(config: CameraConfig) -> FrameHook:
    """The hook a camera's configuration asks for: its privacy masks, if it has any."""
    return compose([PrivacyHook(config.privacy)] if config.privacy.masks else [])


class GrabbedSource(Protocol):
    """What `retrieve_frame` needs of a source (a `VideoSource`, or a wrapper of one)."""

    @property
    def pts(self) -> float: ...

    def retrieve(self) -> np.ndarray | None: ...


def retrieve_frame(source: GrabbedSource, hook: FrameHook, *, sequence: int, capture_time: float) -> Frame | None:
    """Decode the frame `source` last grabbed, stamp it and pass it through `hook`;
    None if the source has no image for it. The result is read-only: it is shared
    with every reader."""
    image = source.retrieve()
    if image is None:
        return None
    frame = hook.apply(Frame(sequence=sequence, capture_time=capture_time, image=image, pts=source.pts))
    frame.image.flags.writeable = False
    return frame
