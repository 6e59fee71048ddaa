"""A `grpc.health.v1` check for Kubernetes exec probes when the front door speaks TLS.

Kubernetes' own gRPC probes do not speak TLS, so with `server.tls` the chart's
liveness and readiness probes run this instead (plaintext front doors get native
gRPC probes). It imports only grpcio, so a probe costs little:

    python -m cluster.deploy.probe --address 127.0.0.1:50051 --service matthan.v1.Cameras \
        --ca /etc/matthan/tls/ca.crt --server-name matthan-frontdoor

Exit 0 when the service answers SERVING within --timeout, 1 otherwise (the reason on
stderr, which Kubernetes shows in the pod's events).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING, EXIT_NOT_SERVING = 0, 1


def check(address: str, service: str, timeout_s: float, ca: Path | None, server_name: str | None) -> str | None:
    """None when `service` is SERVING at `address`, else why not."""
    if ca is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes())
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        channel = grpc.secure_channel(address, credentials, options=options)
    else:
        channel = grpc.insecure_channel(address)
    with channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout_s
            )
        except grpc.RpcError as exc:
            return f"{exc.code().name}: {exc.details()}"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cluster.deploy.probe", description="grpc.health.v1 check")
    parser.add_argument("--address", required=True, help="host:port of the gRPC front door")
    parser.add_argument("--service", default="", help="health service name ('' is the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    parser.add_argument("--ca", type=Path, help="PEM CA the server certificate chains to; TLS when given")
    parser.add_argument("--server-name", help="name to verify the server certificate for (TLS)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = check(args.address, args.service, args.timeout, args.ca, args.server_name)
    if problem is not None:
        print(f"{args.service or 'server'} at {args.address}: {problem}", file=sys.stderr)
        return EXIT_NOT_SERVING
    return EXIT_SERVING


if __name__ == "__main__":
    sys.exit(main())
