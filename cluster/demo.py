"""The embedded demo: synthetic street clips made once, played as looping cameras.

Nothing to download: the clips are drawn with OpenCV (people and vehicles as
moving shapes over a textured road, with sensor noise) and encoded to a real
MPEG-4 file, so the demo exercises the same FFmpeg decode path as a camera.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .config import AnalysisConfig, CameraConfig, MatthanConfig, MotionConfig, ServerConfig, SourceConfig
from .config.server import WebConfig

logger = logging.getLogger(__name__)

CLIP_VERSION = 1  # bump when the drawing changes, so cached clips are regenerated


@dataclass(frozen=True)
class ClipSpec:
    name: str
    seed: int
    people: int
    vehicles: int
    seconds: float = 12.0
    fps: float = 12.5
    width: int = 640
    height: int = 360


# What the duty room reads on the wall (camera names are Vietnamese; ids stay ASCII).
DEMO_NAMES = {
    "hem-12-le-loi": "Hẻm 12 Lê Lợi",
    "cho-phuong-3": "Chợ phường 3",
    "nga-tu-quoc-lo": "Ngã tư quốc lộ",
}

DEMO_CLIPS = (
    ClipSpec("hem-12-le-loi", seed=1, people=4, vehicles=1),
    ClipSpec("cho-phuong-3", seed=2, people=7, vehicles=2),
    ClipSpec("nga-tu-quoc-lo", seed=3, people=2, vehicles=4),
)


def _background(spec: ClipSpec, rng: np.random.Generator) -> np.ndarray:
    h, w = spec.height, spec.width
    img: np.ndarray = np.full((h, w, 3), 90, np.uint8)
    img[:] = rng.integers(70, 110, size=(h, w, 1), dtype=np.uint8)  # asphalt texture
    img = cv2.GaussianBlur(img, (5, 5), 0)
    cv2.rectangle(img, (0, 0), (w, h // 5), (60, 110, 60), -1)  # verge with trees
    cv2.rectangle(img, (0, h - h // 6), (w, h), (150, 150, 145), -1)  # pavement
    for x in range(0, w, 60):
        cv2.line(img, (x, h // 2), (x + 30, h // 2), (220, 220, 220), 3)  # lane marking
    return img


def _mover(
    rng: np.random.Generator,
    width: int,
    y_range: tuple[float, float],
    speed_range: tuple[float, float],
    size_range: tuple[int, int],
    kind: str,
) -> tuple:
    return (
        rng.uniform(0, width),
        rng.uniform(*y_range),
        rng.choice([-1, 1]) * rng.uniform(*speed_range),
        int(rng.integers(*size_range)),
        tuple(int(c) for c in rng.integers(30, 220, 3)),
        kind,
    )


def render_clip(spec: ClipSpec, path: Path) -> Path:
    rng = np.random.default_rng(spec.seed)
    frames = int(spec.seconds * spec.fps)
    background = _background(spec, rng)
    h, w = spec.height, spec.width
    # Each mover: start x, y, speed (px/frame), size, colour, kind; people first (the
    # random draws happen in this order, so a seed always renders the same clip).
    movers = [_mover(rng, w, (h * 0.6, h * 0.9), (1, 3), (10, 16), "person") for _ in range(spec.people)]
    movers += [_mover(rng, w, (h * 0.3, h * 0.55), (5, 10), (40, 70), "vehicle") for _ in range(spec.vehicles)]
    tmp = path.with_suffix(".tmp.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), spec.fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write demo clip {tmp}: no MPEG-4 encoder in this OpenCV build")
    try:
        for i in range(frames):
            img = background.copy()
            for x0, y, speed, size, colour, kind in movers:
                x = int((x0 + speed * i) % (w + 2 * size)) - size
                yy = int(y)
                if kind == "person":
                    cv2.ellipse(img, (x, yy), (size // 3, size), 0, 0, 360, colour, -1)
                    cv2.circle(img, (x, yy - size - size // 3), size // 3, (60, 80, 120), -1)
                else:
                    cv2.rectangle(img, (x - size, yy - size // 2), (x + size, yy + size // 2), colour, -1)
                    cv2.rectangle(
                        img, (x - size // 2, yy - size // 2 - 10), (x + size // 2, yy - size // 2), colour, -1
                    )
            noise = rng.normal(0, 4, img.shape)
            img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
            cv2.putText(img, f"{spec.name} #{i:04d}", (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
            writer.write(img)
    finally:
        writer.release()
    tmp.replace(path)
    return path


def ensure_demo_clips(directory: Path, specs: tuple[ClipSpec, ...] = DEMO_CLIPS) -> list[Path]:
    """Render the demo clips into `directory` unless an up-to-date copy is there."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in specs:
        path = directory / f"{spec.name}.mp4"
        marker = path.with_suffix(".json")
        wanted = {"version": CLIP_VERSION, **spec.__dict__}
        if not (path.exists() and marker.exists() and json.loads(marker.read_text()) == wanted):
            logger.info("rendering demo clip %s", path)
            render_clip(spec, path)
            marker.write_text(json.dumps(wanted))
        paths.append(path)
    return paths


def demo_config(state_dir: Path, specs: tuple[ClipSpec, ...] = DEMO_CLIPS) -> MatthanConfig:
    clips = ensure_demo_clips(state_dir / "clips", specs)
    cameras = [
        CameraConfig(
            id=f"demo-{i + 1}",
            name=DEMO_NAMES.get(spec.name, f"Demo: {spec.name}"),
            groups=["demo"],
            source=SourceConfig(url=str(path.resolve()), loop=True, realtime=True),
            analysis=AnalysisConfig(fps=5.0, motion=MotionConfig(min_area=0.001)),
        )
        for i, (spec, path) in enumerate(zip(specs, clips, strict=False))
    ]
    # The demo's front door listens on loopback only and needs no token, so
    # `matthan watch` works in a second terminal and the web console opens without
    # a login at http://127.0.0.1:8480/; a real config lists tokens.
    config = MatthanConfig(cameras=cameras, server=ServerConfig(allow_unauthenticated=True, web=WebConfig()))
    config.runtime.state_dir = state_dir
    return config
