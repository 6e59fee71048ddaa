"""pull_model against file:// copies of the shared models (no network in tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cluster.modelzoo import MODELS, ChecksumMismatchError, ModelZooError, pull_model, sha256_file


def digests_from_sums(shared: Path) -> dict[str, str]:
    digests = {}
    for line in (shared / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        if path.startswith("models/yolo-fastest-1.1/"):
            digests[Path(path).name] = digest
    return digests


def copy_of_models(models: Path, dest: Path, model: str) -> Path:
    dest.mkdir()
    for name in (f"{model}.cfg", f"{model}.weights", "coco.names"):
        shutil.copy(models / name, dest / name)
    return dest


def test_pinned_digests_match_the_shared_sums(shared: Path) -> None:
    sums = digests_from_sums(shared)
    for spec in MODELS.values():
        for model_file in spec.files:
            assert model_file.sha256 == sums[model_file.name], f"{spec.name}: {model_file.name} pinned digest differs"


@pytest.mark.parametrize("name", ["yolo-fastest-1.1", "yolo-fastest-1.1-xl"])
def test_pull_downloads_and_verifies_every_file(tmp_path: Path, models: Path, name: str) -> None:
    paths = pull_model(name, tmp_path / "out", base_url=models.as_uri(), timeout=10)
    assert [p.name for p in paths] == [f"{name}.cfg", f"{name}.weights", "coco.names"]
    for path in paths:
        assert path.read_bytes() == (models / path.name).read_bytes(), f"{path.name} differs from the source"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths), "leftover files"


def test_corrupted_file_is_refused_named_and_deleted(tmp_path: Path, models: Path) -> None:
    source = copy_of_models(models, tmp_path / "mirror", "yolo-fastest-1.1")
    with open(source / "yolo-fastest-1.1.cfg", "ab") as cfg:
        cfg.write(b"\n# tampered\n")
    actual = sha256_file(source / "yolo-fastest-1.1.cfg")
    expected = MODELS["yolo-fastest-1.1"].files[0].sha256
    dest = tmp_path / "out"
    with pytest.raises(ChecksumMismatchError) as raised:
        pull_model("yolo-fastest-1.1", dest, base_url=source.as_uri() + "/")
    message = str(raised.value)
    assert "yolo-fastest-1.1.cfg" in message and expected in message and actual in message, message
    assert list(dest.iterdir()) == [], f"nothing unverified may stay behind: {list(dest.iterdir())}"


def test_existing_verified_files_are_kept(tmp_path: Path, models: Path) -> None:
    dest = copy_of_models(models, tmp_path / "out", "yolo-fastest-1.1")
    # A base URL that cannot serve anything proves no download was attempted.
    paths = pull_model("yolo-fastest-1.1", dest, base_url=(tmp_path / "nowhere").as_uri())
    assert all(p.is_file() for p in paths)


def test_existing_corrupt_file_is_replaced(tmp_path: Path, models: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "coco.names").write_text("not the coco names\n")
    pull_model("yolo-fastest-1.1", dest, base_url=models.as_uri())
    assert (dest / "coco.names").read_bytes() == (models / "coco.names").read_bytes()


def test_unreachable_source_names_the_url(tmp_path: Path) -> None:
    base = (tmp_path / "nowhere").as_uri()
    expected = f"could not download yolo-fastest-1.1.cfg from {base}/yolo-fastest-1.1.cfg"
    with pytest.raises(ModelZooError, match=expected):
        pull_model("yolo-fastest-1.1", tmp_path / "out", base_url=base)
    assert list((tmp_path / "out").iterdir()) == [], "a failed download must leave no partial file"


def test_unknown_model_lists_the_known_ones(tmp_path: Path) -> None:
    expected = "unknown model 'yolov9'; known models: yolo-fastest-1.1, yolo-fastest-1.1-xl"
    with pytest.raises(ModelZooError, match=expected):
        pull_model("yolov9", tmp_path)
