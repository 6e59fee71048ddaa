"""Batch reprocessing of recorded footage, the Ray-free core (see docs/batch.md).

- `media`: a cheap index of a file (keyframes, duration, creation time), by PyAV;
- `segments`: cutting files into keyframe-aligned segments with a warm-up, and
  which segment owns which event;
- `runner`: one segment through the video core's file driver, with damaged ranges;
- `timestamps`, `inputs`: the wall-clock start of each file, and which files a
  job may read;
- `recorded`: a camera's recorded range as inputs (its chain's segments, runs
  read as one footage, clips, what was not recorded);
- `requests`: what a caller asks (`ReprocessRequest`) and `RequestError`;
- `planning`: a request checked and turned into a job record;
- `job`: the job's record and state machine; `records`: their persistence;
- `progress`: what a job has done, for watchers and metrics;
- `manager`: the job manager's loop over a `SegmentExecutor` and an `EventSink`;
- `api`: `JobControl`, what the front door needs of it.

The Ray side (the job manager actor, segment tasks, client) is `cluster.jobrunner`.
Import the modules directly: this package imports nothing.
"""
