"""The event writer: the one process that writes the event store, as a Ray actor.

- `service`: `EventWriterService`, plain Python: opens the store (retrying), runs the
  writer loop (`cluster.events.EventWriter`) on a thread of its own and answers
  queries, with errors as values;
- `directory`: the cameras the writer follows, from the scheduler (`SchedulerClient`);
- `actor`: the thin Ray actor over the service (named, detached, pinned to the node
  that holds `runtime.state_dir`), and `ensure_event_writer` that `matthan serve` calls;
- `client`: `EventWriterClient`, every call with a deadline: the front door's
  `cluster.events.EventQueries` and the metrics' `EventStoreStatsSource`.

It sits above the scheduler (it asks it for the desired set) and the metrics (its
store reports into an `EventStoreMetrics`), beside the gateway, which reaches it only
through the `EventQueries` protocol. Import the modules directly: this package
imports nothing.
"""
