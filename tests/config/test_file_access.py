"""Files named in requests stay inside the server's file roots; viewers never learn server paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cluster.config import CameraConfig
from cluster.config.camera import confined, hide_server_paths
from cluster.config.file_access import FileRoots


@pytest.fixture
def roots(tmp_path: Path) -> FileRoots:
    (tmp_path / "media").mkdir()
    return FileRoots.of([tmp_path / "media"])


def camera(url: str, **extra: object) -> dict:
    return {"id": "cam-1", "source": {"url": url}, **extra}


def test_a_path_inside_a_root_is_inside(tmp_path: Path, roots: FileRoots) -> None:
    assert roots.contains(tmp_path / "media" / "alley.mp4"), "existence is not required"


def test_dot_dot_out_of_a_root_is_outside(tmp_path: Path, roots: FileRoots) -> None:
    assert not roots.contains(tmp_path / "media" / ".." / "secret.png")


def test_a_symlink_in_a_root_pointing_out_is_outside(tmp_path: Path, roots: FileRoots) -> None:
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    (tmp_path / "media" / "innocent.mp4").symlink_to(tmp_path / "secret.png")

    assert not roots.contains(tmp_path / "media" / "innocent.mp4")


def test_a_request_naming_a_file_outside_is_refused_the_same_whether_it_exists_or_not(
    tmp_path: Path, roots: FileRoots
) -> None:
    (tmp_path / "exists.png").write_bytes(b"\x89PNG")
    messages = []
    for name in ("exists.png", "missing.png"):
        with pytest.raises(ValidationError) as caught:
            CameraConfig.model_validate(camera(str(tmp_path / name)), context=confined(roots))
        messages.append(caught.value.errors()[0]["msg"])
        assert caught.value.errors()[0]["loc"] == ("source", "url"), caught.value.errors()

    assert messages[0] == messages[1], f"the refusal is an existence oracle: {messages}"


def test_a_file_url_outside_is_refused(roots: FileRoots) -> None:
    with pytest.raises(ValidationError, match="file_roots"):
        CameraConfig.model_validate(camera("file:///etc/passwd"), context=confined(roots))


def test_detector_files_outside_are_refused_before_any_is_read(tmp_path: Path, roots: FileRoots) -> None:
    (tmp_path / "media" / "clip.mp4").write_bytes(b"")
    data = camera(
        str(tmp_path / "media" / "clip.mp4"),
        analysis={"detector": {"model": str(tmp_path / "media" / "m.cfg"), "names": "/etc/passwd"}},
        rules={"lines": [{"name": "l", "start": [0, 0.5], "end": [1, 0.5], "filters": {"classes": ["rootx"]}}]},
    )
    with pytest.raises(ValidationError) as caught:
        CameraConfig.model_validate(data, context=confined(roots))

    error = caught.value.errors()[0]
    assert error["loc"] == ("analysis", "detector", "names"), error
    assert "root:" not in str(caught.value), "the names file was read and echoed"


def test_the_config_file_is_trusted(tmp_path: Path) -> None:
    assert CameraConfig.model_validate(camera(str(tmp_path / "anywhere.mp4"))).source.is_file


def test_reasons_name_the_file_not_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "private" / "alley.mp4"
    config = CameraConfig.model_validate(camera(str(path)))

    shown = hide_server_paths(config, f"could not open {path}: No such file or directory")

    assert str(tmp_path) not in shown and "alley.mp4" in shown, shown
