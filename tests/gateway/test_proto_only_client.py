"""A client built from the .proto files alone (no project code) talks to the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from grpc_tools import protoc

from cluster.proto import generate

from .conftest import TOKENS

CLIENT = textwrap.dedent(
    """
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # only the freshly generated code
    import grpc
    from matthan.v1 import cameras_pb2, cameras_pb2_grpc

    target, token = sys.argv[1], sys.argv[2]
    md = (("authorization", "Bearer " + token),)
    stub = cameras_pb2_grpc.CamerasStub(grpc.insecure_channel(target))
    cameras = stub.ListCameras(cameras_pb2.ListCamerasRequest(), metadata=md, timeout=5).cameras
    print("cameras", ",".join(c.spec.id for c in cameras))
    stream = stub.StreamDetections(
        cameras_pb2.StreamDetectionsRequest(camera_ids=["cam-a"], resume_after={"cam-a": 0}), metadata=md, timeout=10
    )
    for response in stream:
        print("batch", response.batch.sequence, response.batch.detections[0].class_name)
        break
    stream.cancel()
    leaked = sorted(m for m in sys.modules if m == "cluster" or m.startswith("cluster."))
    print("project modules", leaked)
    """
)


def test_a_client_generated_from_the_proto_alone_works(gateway, tmp_path: Path) -> None:
    protos = [str(p.relative_to(generate.PROTO_ROOT)) for p in generate.proto_files()]
    well_known = str(Path(protoc.__file__).parent / "_proto")
    includes = [f"-I{generate.PROTO_ROOT}", f"-I{well_known}"]
    code = protoc.main(["protoc", *includes, f"--python_out={tmp_path}", f"--grpc_python_out={tmp_path}", *protos])
    assert code == 0, "protoc compiled the .proto files"
    for package in (tmp_path / "matthan", tmp_path / "matthan" / "v1"):
        (package / "__init__.py").touch()
    (tmp_path / "client.py").write_text(CLIENT)
    gateway.run(gateway.camera("cam-a").publish_batch(count=2))
    # -I: isolated mode, so neither the working directory nor PYTHON* variables put the project on the path.
    result = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "client.py"), gateway.target, TOKENS["viewer-all"][0]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "cameras cam-a,cam-b,cam-c"
    assert lines[1] == "batch 1 person"
    assert lines[2] == "project modules []", "the client used no project code"
