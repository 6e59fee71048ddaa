"""Fetching the detector models the project knows, verified against pinned digests.

Only models listed here can be pulled: every file has a sha256 pinned in this
module, so a changed or tampered upstream file is refused rather than run.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

UPSTREAM = "https://raw.githubusercontent.com/dog-qiuqiu/Yolo-Fastest/master/ModelZoo/yolo-fastest-1.1_coco/"

_CHUNK_BYTES = 1 << 20

COCO_NAMES_SHA256 = "634a1132eb33f8091d60f2c346ababe8b905ae08387037aed883953b7329af84"


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    files: tuple[ModelFile, ...]  # cfg, weights, names: the order pull_model returns

    @property
    def cfg(self) -> str:
        return self.files[0].name


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "yolo-fastest-1.1",
            (
                ModelFile("yolo-fastest-1.1.cfg", "f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70"),
                ModelFile(
                    "yolo-fastest-1.1.weights", "1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890"
                ),
                ModelFile("coco.names", COCO_NAMES_SHA256),
            ),
        ),
        ModelSpec(
            "yolo-fastest-1.1-xl",
            (
                ModelFile(
                    "yolo-fastest-1.1-xl.cfg", "c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3"
                ),
                ModelFile(
                    "yolo-fastest-1.1-xl.weights", "fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5"
                ),
                ModelFile("coco.names", COCO_NAMES_SHA256),
            ),
        ),
    )
}


class ModelZooError(RuntimeError):
    """A model could not be pulled: unknown name, download failure, or bad digest."""


class ChecksumMismatchError(ModelZooError):
    def __init__(self, file_name: str, url: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{file_name} from {url} has sha256 {actual}, expected {expected}; refused and deleted "
            "(corrupt download or changed upstream file)"
        )
        self.file_name = file_name
        self.expected = expected
        self.actual = actual


def known_models() -> list[str]:
    return sorted(MODELS)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def pull_model(name: str, dest_dir: Path, base_url: str = UPSTREAM, timeout: float = 60) -> list[Path]:
    """Download model `name`'s cfg, weights and coco.names into `dest_dir`.

    Files already there with the right digest are kept as they are; ones with a
    wrong digest are deleted and downloaded again. Each download goes to a
    temporary file in `dest_dir` and is renamed into place only once its sha256
    matches, so a reader never sees a partial or unverified file. `base_url` may be
    any URL urllib opens, file:// included. Returns the paths in the order cfg,
    weights, names.
    """
    spec = MODELS.get(name)
    if spec is None:
        raise ModelZooError(f"unknown model {name!r}; known models: {', '.join(known_models())}")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    base = base_url if base_url.endswith("/") else base_url + "/"
    paths = []
    for model_file in spec.files:
        target = dest_dir / model_file.name
        if target.is_file():
            if sha256_file(target) == model_file.sha256:
                paths.append(target)
                continue
            target.unlink()  # a wrong file must not stay where the detector would load it
        _download_verified(base + model_file.name, target, model_file, timeout)
        paths.append(target)
    return paths


def _download_verified(url: str, target: Path, model_file: ModelFile, timeout: float) -> None:
    handle, tmp_name = tempfile.mkstemp(prefix=f".{model_file.name}.", suffix=".part", dir=target.parent)
    tmp_path = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    while chunk := response.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise ModelZooError(f"could not download {model_file.name} from {url}: {error}") from error
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model_file.sha256:
            raise ChecksumMismatchError(model_file.name, url, model_file.sha256, actual)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)
