"""`matthan`: the command line of Mắt Thần."""

from __future__ import annotations

import argparse
import logging
import sys

from ..config import ConfigError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    from . import (
        cameras_cmd,
        cluster_cmd,
        config_cmd,
        deploy_cmd,
        events_cmd,
        frames_cmd,
        jobs_cmd,
        models_cmd,
        recordings_cmd,
        reprocess_cmd,
        serve_cmd,
        status_cmd,
        token_cmd,
        watch_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="matthan", description="Mắt Thần: live video analytics for community cameras."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmd.register(sub)
    status_cmd.register(sub)
    cameras_cmd.register(sub)
    watch_cmd.register(sub)
    events_cmd.register(sub)
    frames_cmd.register(sub)
    cluster_cmd.register(sub)
    token_cmd.register(sub)
    models_cmd.register(sub)
    config_cmd.register(sub)
    deploy_cmd.register(sub)
    recordings_cmd.register(sub)  # recordings: `matthan recordings ...`, `matthan export`
    # batch reprocessing (matthan.v1.Jobs)
    reprocess_cmd.register(sub)
    jobs_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or EXIT_OK)
    except ConfigError as exc:
        print(f"matthan: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `matthan watch --plain | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
