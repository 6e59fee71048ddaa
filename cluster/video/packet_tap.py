"""What a source hands to whoever records its stream: the packets it demuxed, with the
stream's codec parameters (`cluster.video.sources.VideoSource.set_packet_tap`).

A tap is called on the capture thread and must return at once (the camera's
recorder queues the packets for a thread of its own).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import av

# The container a stream's codec parameters are copied into for a tap (in memory,
# never written): Matroska accepts every codec a camera sends.
TEMPLATE_FORMAT = "matroska"


@dataclass(frozen=True)
class StreamTemplate:
    """The codec parameters of one pass of a source, copied so that they outlive it.

    A recorder creates its segment's stream from `stream` (`add_stream_from_template`)
    on its own thread, while the source may have been closed long ago: the copy
    lives in a small in-memory container of its own, never written."""

    stream: Any  # av.video.stream.VideoStream of `_holder`
    _holder: Any
    codec: str
    time_base: Fraction
    width: int
    height: int
    fps: float
    is_file: bool

    def close(self) -> None:
        self._holder.close()


class PacketTap(Protocol):
    """Where a source hands the packets it demuxed (the recorder). Every method is
    called on the capture thread and must return at once."""

    def begin(self, template: StreamTemplate) -> None:
        """A pass starts: the packets that follow are of this stream, and their
        timestamps are not comparable with the previous pass's."""

    def packet(self, packet: Any) -> None:
        """One packet (`av.Packet`), already decoded by the source: the tap owns it now."""

    def end(self, reason: str) -> None:
        """The pass is over (source closed, file ended or looped, tap replaced)."""


def template_of(stream: Any, *, is_file: bool, fps: float) -> StreamTemplate:
    holder = av.open(io.BytesIO(), "w", format=TEMPLATE_FORMAT)
    copy = holder.add_stream_from_template(stream)
    return StreamTemplate(
        stream=copy,
        _holder=holder,
        codec=stream.codec_context.name,
        time_base=stream.time_base or Fraction(1, 90000),
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=fps,
        is_file=is_file,
    )
