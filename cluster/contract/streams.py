"""What a detection stream tells its reader about batches it can no longer deliver.

Sent in-band (`DataLoss` on the next message of that camera), never as a status
code: the stream goes on. The gateway's fan-out produces these; the client
decodes them from `matthan.v1.DataLoss`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LossReason(enum.Enum):
    RING_OVERWRITTEN = "ring_overwritten"  # the camera's ring no longer holds them (the reader fell behind)
    CAMERA_RESTARTED = "camera_restarted"  # a new camera actor numbers its batches from 1 again


@dataclass(frozen=True, slots=True)
class DataLoss:
    reason: LossReason
    first_missing: int  # inclusive
    last_missing: int  # inclusive; 0 when unknown
