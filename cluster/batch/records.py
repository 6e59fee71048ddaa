"""Job records on disk: one JSON file per job in `runtime.state_dir/jobs/`, written atomically.

A crash leaves each record either as it was or as it became (`write_json_atomically`);
a record that cannot be read (hand-edited, from a newer version) is skipped with an
error in the log, never fatal, and kept on disk for a person to look at.

Staged results. The job manager writes a finished segment's result to
`<job>.staged/<file>-<segment>.pickle` (atomically) before its events go to the store,
and removes it once the segment is marked done in the record: the commit point of
exactly-once (`manager.py`). The directory is ours (0700, files 0600) and only the
manager writes it, so its pickles are trusted like the records.
"""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from pathlib import Path

from cluster.support.atomic import write_bytes_atomically, write_json_atomically

from .job import JobRecord
from .runner import SegmentResult

log = logging.getLogger(__name__)

RECORD_VERSION = 1


class JobRecordStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def save(self, record: JobRecord) -> None:
        write_json_atomically(self.path(record.job_id), {"version": RECORD_VERSION, "job": record.to_json()})

    def load_all(self) -> list[JobRecord]:
        """Every readable record, oldest submission first."""
        records: list[JobRecord] = []
        if not self.directory.is_dir():
            return records
        for path in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") != RECORD_VERSION:
                    raise ValueError(f"record version {data.get('version')!r}, this one reads {RECORD_VERSION}")
                records.append(JobRecord.from_json(data["job"]))
            except Exception:  # one bad record must not hide the others
                log.exception("job record %s cannot be read; skipping it", path)
        return sorted(records, key=lambda r: (r.submitted_at, r.job_id))

    def delete(self, job_id: str) -> None:
        self.path(job_id).unlink(missing_ok=True)
        shutil.rmtree(self._stage_dir(job_id), ignore_errors=True)

    # ---- staged segment results ------------------------------------------------------------

    def stage(self, job_id: str, result: SegmentResult) -> None:
        """Keep `result` on disk until `unstage`; raises OSError if it could not be written."""
        data = pickle.dumps((RECORD_VERSION, result), protocol=pickle.HIGHEST_PROTOCOL)
        write_bytes_atomically(self._stage_path(job_id, result.segment.key), data)

    def staged(self, job_id: str) -> list[SegmentResult]:
        """The staged results of a job, in segment order; an unreadable one is logged and skipped
        (its segment runs again)."""
        results: list[SegmentResult] = []
        directory = self._stage_dir(job_id)
        if not directory.is_dir():
            return results
        for path in sorted(directory.glob("*.pickle")):
            try:
                version, result = pickle.loads(path.read_bytes())
                if version != RECORD_VERSION or not isinstance(result, SegmentResult):
                    raise ValueError(f"staged result version {version!r}, this one reads {RECORD_VERSION}")
                results.append(result)
            except Exception:
                log.exception("staged segment result %s cannot be read; its segment runs again", path)
        return sorted(results, key=lambda r: (r.segment.file_index, r.segment.index))

    def unstage(self, job_id: str, key: str) -> None:
        self._stage_path(job_id, key).unlink(missing_ok=True)

    def _stage_dir(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.staged"

    def _stage_path(self, job_id: str, key: str) -> Path:
        return self._stage_dir(job_id) / f"{key.replace(':', '-')}.pickle"
