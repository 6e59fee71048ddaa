"""Where each camera's recordings are: the one rule the recorder's configuration and
the readers (gateway, CLI) share."""

from __future__ import annotations

from pathlib import Path

from cluster.config import CameraConfig
from cluster.config.recording import RecordingStorageConfig


class RecordingCatalog:
    """`camera_dir(camera)`: `<recording.directory>/<camera id>`, where an unset
    directory is the `recordings:` section's for the camera's groups (under
    `state_dir`), as `with_recording_directories` resolves it for the actors."""

    def __init__(self, storage: RecordingStorageConfig, state_dir: Path) -> None:
        self.storage = storage
        self.state_dir = Path(state_dir)

    def directory(self, camera: CameraConfig) -> Path:
        if camera.recording.directory is not None:
            return Path(camera.recording.directory)
        return self.storage.directory_for(camera.groups, self.state_dir)

    def resolved(self, camera: CameraConfig) -> CameraConfig:
        """`camera` with its recording directory set (what its actor records into)."""
        if camera.recording.directory is not None:
            return camera
        recording = camera.recording.model_copy(update={"directory": self.directory(camera)})
        return camera.model_copy(update={"recording": recording})

    def camera_dir(self, camera: CameraConfig) -> Path:
        return self.directory(camera) / camera.id
