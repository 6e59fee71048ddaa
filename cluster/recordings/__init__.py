"""Recording and evidence: segments, their hash chain, retention, holds and export.

Plain Python (PyAV for muxing and export), used by the camera actor's recorder
(`cluster.actors.recorder`, which drives `session.RecordingSession` on its own
thread) and by the readers (the gateway's `Recordings` service, the CLI).

- `chain.py`: the per-camera index and hash chain (`chain.jsonl`), verification;
- `index.py`: ranges, gaps and segments of a time range; `segments_for_range`
  (what batch reprocessing reads);
- `writer.py`: one segment file (stream copy into Matroska);
- `clock.py`: wall-clock times from the stream's clock (anchored to the earliest arrival);
- `session.py`: the recording state machine (modes, pre/post roll, keyframe
  cuts, gaps, disk failures, retention runs);
- `retention.py`: by age per mode and by a disk budget, holds respected;
- `holds.py`: evidence holds and the audit trail;
- `export.py`: a range as one MP4 with the privacy masks burnt in, and its manifest;
- `catalog.py`: where a camera's recordings are.

Imports `cluster.domain`, `cluster.config`, `cluster.support` and `cluster.video`.
"""

from .catalog import RecordingCatalog
from .chain import Verification, verify_chain
from .index import SegmentFile, segments_for_range, timeline

__all__ = ["RecordingCatalog", "SegmentFile", "Verification", "segments_for_range", "timeline", "verify_chain"]
