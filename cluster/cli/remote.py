"""What every command that talks to the front door shares: connection options and errors."""

from __future__ import annotations

import functools
import sys

from ..client import ClientError, MatthanClient
from ..client.client import DEFAULT_TARGET


def add_connection_args(parser) -> None:
    parser.add_argument("--address", help=f"front door host:port (default $MATTHAN_ADDRESS or {DEFAULT_TARGET})")
    parser.add_argument("--token", help="bearer token (default $MATTHAN_TOKEN); TLS via $MATTHAN_TLS_CA etc.")


def connect(args) -> MatthanClient:
    overrides = {}
    if getattr(args, "address", None):
        overrides["target"] = args.address
    if getattr(args, "token", None):
        overrides["token"] = args.token
    return MatthanClient.from_env(**overrides)


def reports_errors(command: str):
    """Turn a failed call into one line on stderr and exit code 1."""

    def wrap(func):
        @functools.wraps(func)
        def run(args) -> int:
            try:
                return func(args)
            except ClientError as exc:
                print(f"matthan: {command}: {exc.code.name}: {exc.details}", file=sys.stderr)
                return 1

        return run

    return wrap
