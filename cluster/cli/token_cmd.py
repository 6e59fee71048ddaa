"""`matthan token new NAME --role ROLE`: a new API token and the config entry to add."""

from __future__ import annotations

import yaml

from ..gateway.auth import generate_token, hash_token


def register(sub) -> None:
    parser = sub.add_parser("token", help="create API tokens")
    inner = parser.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    new = inner.add_parser("new", help="print a new token and its `server.tokens` entry (only the hash is stored)")
    new.add_argument("name", help="who holds it, e.g. duty-room-1 (appears in the access log)")
    new.add_argument("--role", choices=("viewer", "operator", "admin"), default="viewer")
    new.add_argument("--camera", action="append", default=[], help="viewer: allowed camera id (repeatable)")
    new.add_argument("--group", action="append", default=[], help="viewer: allowed camera group (repeatable)")
    new.set_defaults(func=run_new)


def run_new(args) -> int:
    token = generate_token()
    entry = {"name": args.name, "sha256": hash_token(token), "role": args.role}
    if args.camera:
        entry["cameras"] = args.camera
    if args.group:
        entry["groups"] = args.group
    if args.role == "viewer" and not (args.camera or args.group):
        entry["all_cameras"] = True
    print(f"token (give it to {args.name}; it is not stored anywhere): {token}")
    print("add under server.tokens in cameras.yaml:")
    print(yaml.safe_dump([entry], sort_keys=False, allow_unicode=True).rstrip())
    return 0
