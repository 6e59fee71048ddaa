"""Recordings metrics of the front door, updated by the `Recordings` service as it works
(verifications and exports). The recorders' own figures (bytes, segments, state, disk)
come with each camera's status and are rendered by the cluster collector.

    metrics = RecordingMetrics(registry)
    metrics.verified("cam-1", ok=False)
    metrics.exported("cam-1", masked=True, seconds=60.0)
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from . import definitions as d


class RecordingMetrics:
    def __init__(self, registry: CollectorRegistry):
        self._verifications = d.RECORDINGS_VERIFICATIONS.create(registry)
        self._failures = d.RECORDINGS_VERIFICATION_FAILURES.create(registry)
        self._exports = d.RECORDINGS_EXPORTS.create(registry)
        self._unmasked = d.RECORDINGS_UNMASKED_EXPORTS.create(registry)
        self._exported_seconds = d.RECORDINGS_EXPORTED_SECONDS.create(registry)

    def verified(self, camera_id: str, ok: bool) -> None:
        self._verifications.labels(camera_id).inc()
        failures = self._failures.labels(camera_id)  # the series exists (at 0) once a camera was verified
        if not ok:
            failures.inc()

    def exported(self, camera_id: str, *, masked: bool, seconds: float) -> None:
        self._exports.labels(camera_id).inc()
        if not masked:
            self._unmasked.labels(camera_id).inc()
        self._exported_seconds.labels(camera_id).inc(max(0.0, seconds))
