"""Prometheus metrics for the whole cluster, served from one scrape target.

Modules (import them directly; this package imports nothing). The cumulative
histograms and counters a camera actor fills and ships in `CameraStatus.metrics`
live with the actor, in `cluster/actors/telemetry.py`.

- `definitions`: every metric name, type, help text, labels and buckets, in one place.
- `snapshot`, `refresher`, `collector`: a background task pulls camera statuses,
  cluster status, scheduler stats and the event store's metrics into a snapshot; a
  custom collector renders the newest snapshot on each scrape.
- `scheduler`: the snapshot the scheduler offers (`SchedulerStatsSource`).
- `gateway`, `grpc_interceptor`, `batch`: push-style metrics the front door and batch
  jobs update as things happen.
- `events`: the event store's metrics, updated where the store runs (the event writer
  actor) and read by the refresher as snapshots (`EventStoreStatsSource`).
- `server`: the `/metrics` HTTP endpoint; `service`: all of it assembled from config.
- `grafana`, `dashboards`: the Grafana dashboards under monitoring/ are generated here.
"""
