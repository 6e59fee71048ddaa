"""Regenerate the committed protobuf/gRPC Python code from the .proto files.

    python -m cluster.proto.generate            # rewrite cluster/proto/matthan/v1/*_pb2*.py(i)
    python -m cluster.proto.generate --out DIR  # write elsewhere (the staleness test does this)

protoc writes absolute imports (`from matthan.v1 import types_pb2`) because the
proto package is `matthan.v1`; the code lives under `cluster.proto`, so those
imports are rewritten to package-relative ones (`from . import types_pb2`).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent  # the -I root: holds matthan/v1/*.proto
PACKAGE_DIR = PROTO_ROOT / "matthan" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")

# `from matthan.v1 import types_pb2 as ...` -> `from . import types_pb2 as ...`
_ABSOLUTE_IMPORT = re.compile(r"^from matthan\.v1 import ", re.MULTILINE)
# `import matthan.v1.types_pb2` would need a different rewrite; protoc does not emit it today.
_BARE_IMPORT = re.compile(r"^import matthan\.", re.MULTILINE)


def proto_files() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.proto"))


def _well_known_include() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def _fix_imports(text: str, path: Path) -> str:
    if _BARE_IMPORT.search(text):
        raise RuntimeError(f"{path}: unexpected absolute 'import matthan...' line; extend generate._fix_imports")
    return _ABSOLUTE_IMPORT.sub("from . import ", text)


def generate(out_dir: Path) -> list[Path]:
    """Compile every matthan/v1/*.proto into `out_dir` (flat: the *_pb2 files only).

    Returns the written files, sorted. Raises RuntimeError with protoc's message on failure.
    """
    from grpc_tools import protoc

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = proto_files()
    if not protos:
        raise RuntimeError(f"no .proto files in {PACKAGE_DIR}")
    with tempfile.TemporaryDirectory(prefix="matthan-protoc-") as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{_well_known_include()}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *(str(p.relative_to(PROTO_ROOT)) for p in protos),
        ]
        code = protoc.main(args)
        if code != 0:
            raise RuntimeError(f"protoc failed with exit code {code} (its message is above); args: {args[1:]}")
        produced = sorted(p for p in (Path(tmp) / "matthan" / "v1").iterdir() if p.name.endswith(GENERATED_SUFFIXES))
        written = []
        for src in produced:
            dest = out_dir / src.name
            dest.write_text(_fix_imports(src.read_text(encoding="utf-8"), src), encoding="utf-8")
            written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR, help=f"output directory (default {PACKAGE_DIR})")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
