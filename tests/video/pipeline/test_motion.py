"""MotionDetector on synthetic scenes: a textured static background with sensor noise,
and a solid rectangle moving across it."""

from __future__ import annotations

import numpy as np

from cluster.config import MotionConfig
from cluster.video.pipeline import MotionDetector

WIDTH, HEIGHT = 320, 180
RECT = 40  # side of the moving square, pixels
STEP = 45  # it jumps past its previous place each frame, so all of it is new foreground


def scene(rng: np.random.Generator, background: np.ndarray, square_x: int | None) -> np.ndarray:
    """The static background plus fresh sensor noise, with a white square at x if given."""
    noisy = background.astype(np.int16) + rng.normal(0.0, 3.0, background.shape).astype(np.int16)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    if square_x is not None:
        image[70 : 70 + RECT, square_x : square_x + RECT] = 255
    return image


def run(detector: MotionDetector, frames: list[np.ndarray]) -> list[tuple[bool, float]]:
    return [detector.update(frame) for frame in frames]


def make_background(seed: int = 0) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng, rng.integers(0, 200, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def test_first_frame_is_warm_up_not_motion() -> None:
    rng, background = make_background()
    moving, ratio = MotionDetector(MotionConfig()).update(scene(rng, background, None))
    assert (moving, ratio) == (False, 0.0), f"a fresh model reported motion on its first frame: ratio {ratio}"


def test_static_scene_with_noise_is_not_motion() -> None:
    rng, background = make_background()
    results = run(MotionDetector(MotionConfig()), [scene(rng, background, None) for _ in range(15)])
    assert not any(moving for moving, _ in results), f"static scene reported motion: {results}"


def test_moving_square_is_motion() -> None:
    rng, background = make_background()
    frames = [scene(rng, background, None) for _ in range(5)]
    frames += [scene(rng, background, 20 + STEP * i) for i in range(6)]
    results = run(MotionDetector(MotionConfig()), frames)
    assert all(moving for moving, _ in results[5:]), f"moving square not seen as motion: {results[5:]}"
    square_share = RECT * RECT / (WIDTH * HEIGHT)
    for _, ratio in results[5:]:
        assert 0.5 * square_share <= ratio <= 2.0 * square_share, f"ratio {ratio} far from the square's {square_share}"


def test_mask_over_the_moving_square_suppresses_it() -> None:
    rng, background = make_background()
    frames = [scene(rng, background, None) for _ in range(5)]
    frames += [scene(rng, background, 20 + STEP * i) for i in range(6)]
    band = [(0.0, 0.3), (1.0, 0.3), (1.0, 0.7), (0.0, 0.7)]  # rows 54..126 hold the square (70..110)
    results = run(MotionDetector(MotionConfig(masks=[band])), frames)
    assert not any(moving for moving, _ in results), f"masked square still reported: {results}"


def test_ratio_is_relative_to_the_unmasked_area() -> None:
    rng, background = make_background()
    frames = [scene(rng, background, None) for _ in range(5)] + [scene(rng, background, 30)]
    unmasked = run(MotionDetector(MotionConfig()), frames)[-1][1]
    rng, background = make_background()
    frames = [scene(rng, background, None) for _ in range(5)] + [scene(rng, background, 30)]
    right_half = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]  # the square is in the left half
    half_masked = run(MotionDetector(MotionConfig(masks=[right_half])), frames)[-1][1]
    assert abs(half_masked - 2 * unmasked) < 0.2 * unmasked, f"unmasked {unmasked}, half masked {half_masked}"


def test_small_motion_below_min_area_is_not_motion() -> None:
    rng, background = make_background()
    frames = [scene(rng, background, None) for _ in range(5)] + [scene(rng, background, 30)]
    moving, ratio = run(MotionDetector(MotionConfig(min_area=0.2)), frames)[-1]
    assert ratio > 0.0, "the square should still be measured"
    assert not moving, f"ratio {ratio} is below min_area 0.2 but counted as motion"


def test_frame_size_change_restarts_warm_up() -> None:
    rng, background = make_background()
    detector = MotionDetector(MotionConfig(width=160))
    run(detector, [scene(rng, background, None) for _ in range(5)])
    smaller = np.ascontiguousarray(scene(rng, background, None)[:, :200])  # new aspect -> new model size
    assert detector.update(smaller) == (False, 0.0), "a new frame size must start a fresh, warming-up model"
