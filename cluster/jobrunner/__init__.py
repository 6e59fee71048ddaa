"""The batch job manager on Ray: the Ray side of `cluster.batch`.

- `settings`: what the detached actor is created with (frozen, pickled into it);
- `tasks`: a segment as a Ray task, at low OS priority, reporting progress;
- `capacity`: the room for segments per node, from the scheduler's accounting (plain);
- `room`: `SchedulerRoom`, the scheduler's node reports kept fresh, every ask with a deadline;
- `executor`: `RaySegmentExecutor`, the `cluster.batch.ports.SegmentExecutor` over
  those tasks, placed where the live cameras leave room;
- `actor`: the job manager actor (named, detached, pinned to the state node) and
  `ensure_job_manager`, which `matthan serve` calls;
- `client`: `JobManagerClient`, every call with a deadline.

It sits beside the gateway and the client (it uses the event writer and the
scheduler). Import the modules directly: this package imports nothing.
"""
