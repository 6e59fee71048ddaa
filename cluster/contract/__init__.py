"""The wire contract of the front door: protobuf <-> the project's own types.

Both sides of the gRPC API use it, the gateway (serving) and `cluster.client`
(calling), so it lives in neither: it imports only `domain`, `config`, `control`,
the event store's query types (`events`) and the generated `proto` code, and the client never imports the gateway.

- `convert`: messages <-> domain values and config models, both directions;
- `events`: `matthan.v1.Events` messages <-> events and the event store's queries;
- `errors`: `RequestError`, a malformed request naming its field (INVALID_ARGUMENT);
- `streams`: what a detection stream reports about batches it cannot deliver
  (`DataLoss`, `LossReason`).
"""

from .errors import RequestError
from .streams import DataLoss, LossReason

__all__ = ["DataLoss", "LossReason", "RequestError"]
