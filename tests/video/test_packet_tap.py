"""The packet tap: every packet the source demuxes reaches the tap, as it is, in a pass
bracketed by begin and end, while the analysis decodes the same packets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluster.config.source import SourceConfig
from cluster.video.opening import open_source
from cluster.video.packet_tap import StreamTemplate

CAR_PACKETS = 377  # ffprobe -count_packets


class Tap:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def begin(self, template: StreamTemplate) -> None:
        self.calls.append(("begin", template))

    def packet(self, packet: Any) -> None:
        self.calls.append(("packet", (packet.pts, bool(packet.is_keyframe), packet.size)))

    def end(self, reason: str) -> None:
        self.calls.append(("end", reason))


def test_a_file_hands_every_packet_from_its_first_keyframe(car_clip: Path) -> None:
    source = open_source(SourceConfig(url=str(car_clip), realtime=False, loop=False))
    tap = Tap()
    source.set_packet_tap(tap)  # after the open, which already decoded the first frame
    frames = 0
    while source.grab():
        frames += 1
    source.release()
    kinds = [kind for kind, _ in tap.calls]
    assert kinds[0] == "begin" and kinds[-1] == "end", f"a pass is bracketed: {kinds[:2]} ... {kinds[-2:]}"
    assert kinds.count("begin") == 1 and kinds.count("end") == 1, "one pass, one begin and one end"
    packets = [value for kind, value in tap.calls if kind == "packet"]
    assert len(packets) == CAR_PACKETS, f"every packet, including those read during the open: {len(packets)}"
    assert packets[0][1], "the first packet handed over is the keyframe the file starts with"
    assert frames == CAR_PACKETS, "and the analysis got every frame of the same packets"
    template = tap.calls[0][1]
    assert (template.codec, template.width, template.height) == ("h264", 768, 432), "the stream's parameters"
    assert tap.calls[-1][1] == "end of file", f"the end says why: {tap.calls[-1][1]!r}"


def test_a_looping_file_is_a_new_pass_each_time(car_clip: Path) -> None:
    source = open_source(SourceConfig(url=str(car_clip), realtime=False, loop=True))
    tap = Tap()
    source.set_packet_tap(tap)
    for _ in range(CAR_PACKETS + 20):
        assert source.grab(), "a looping file never ends"
    source.set_packet_tap(None)
    source.release()
    kinds = [kind for kind, _ in tap.calls]
    assert kinds.count("begin") == 2 and kinds.count("end") == 2, f"two passes: {kinds.count('begin')} begins"
    reasons = [value for kind, value in tap.calls if kind == "end"]
    assert reasons == ["file looped", "recording reconfigured"], f"why each pass ended: {reasons}"
