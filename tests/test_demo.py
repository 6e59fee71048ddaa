"""The demo needs no camera and no download: it renders real video files once."""

from __future__ import annotations

import cv2

from cluster.demo import ClipSpec, demo_config, ensure_demo_clips

SMALL = (ClipSpec("tiny", seed=7, people=2, vehicles=1, seconds=2.0, width=160, height=96),)


def test_demo_clip_is_a_decodable_video(tmp_path):
    [path] = ensure_demo_clips(tmp_path, SMALL)
    cap = cv2.VideoCapture(str(path))
    frames = 0
    while cap.grab():
        frames += 1
    cap.release()
    assert frames == 25, f"2 s at 12.5 fps should be 25 frames, decoded {frames}"


def test_demo_clips_are_rendered_once(tmp_path):
    [path] = ensure_demo_clips(tmp_path, SMALL)
    mtime = path.stat().st_mtime_ns
    ensure_demo_clips(tmp_path, SMALL)
    assert path.stat().st_mtime_ns == mtime, "an up-to-date clip must not be rendered again"


def test_demo_config_loops_its_clips_in_real_time(tmp_path):
    config = demo_config(tmp_path, SMALL)
    assert [c.id for c in config.cameras] == ["demo-1"]
    source = config.cameras[0].source
    assert source.loop and source.realtime and source.file_path.exists()
