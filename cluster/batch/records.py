"""Job records on disk: one JSON file per job in `runtime.state_dir/jobs/`, written atomically.

A crash leaves each record either as it was or as it became (`write_json_atomically`);
a record that cannot be read (hand-edited, from a newer version) is skipped with an
error in the log, never fatal, and kept on disk for a person to look at.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cluster.support.atomic import write_json_atomically

from .job import JobRecord

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
