"""Config files are validated strictly: unknown keys and bad values name the key and the reason."""

from __future__ import annotations

import pytest

from cluster.config import ConfigError, load_config, parse_config, redact_url

MINIMAL = {"cameras": [{"id": "cam-1", "source": {"url": "rtsp://10.0.0.5:554/stream1"}}]}


def cam(**overrides):
    base = {"id": "cam-1", "source": {"url": "rtsp://10.0.0.5:554/stream1"}}
    base.update(overrides)
    return {"cameras": [base]}


def test_minimal_config_gets_documented_defaults():
    config = parse_config(MINIMAL)
    camera = config.cameras[0]
    assert camera.source.rtsp_transport == "tcp", "RTSP should default to TCP"
    assert camera.analysis.detector is None, "no detector unless configured (motion-only)"
    assert camera.analysis.fps == 5.0


@pytest.mark.parametrize(
    "data, expected",
    [
        (cam(colour="red"), "cameras.0.colour: unknown key"),
        (cam(id="Cam 1"), "cameras.0.id: camera id 'Cam 1' must be"),
        (cam(id=""), "cameras.0.id"),
        (cam(source={"url": "ftp://host/x"}), "cameras.0.source.url: unsupported URL scheme 'ftp'"),
        (cam(source={"url": "rtsp://"}), "cameras.0.source.url: URL 'rtsp://' has no host"),
        (cam(source={"url": f"rtsp://{'a' * 300}/x"}), "the host name is 300 characters long; DNS allows at most 253"),
        (cam(source={"url": f"rtsp://{'b' * 64}.lan/x"}), "a label of the host name is 64 characters long"),
        (cam(source={"url": "rtsp://host:99999/x"}), "cameras.0.source.url: URL 'rtsp://host:99999/x' has a bad port"),
        (cam(source={"url": "rtsp://h/x", "rtsp_transport": "sctp"}), "cameras.0.source.rtsp_transport"),
        (cam(source={"url": "rtsp://h/x", "open_timeout_s": 0}), "cameras.0.source.open_timeout_s"),
        (cam(analysis={"fps": 500}), "cameras.0.analysis.fps"),
        (cam(analysis={"fps": 2, "min_fps": 3}), "analysis.min_fps (3) is above analysis.fps (2)"),
        (cam(analysis={"detector": {"model": "m.cfg", "input_size": 100}}), "input_size 100 is not a multiple of 32"),
        (cam(analysis={"motion": {"masks": [[[0, 0], [1, 1]]]}}), "a polygon needs at least 3 points"),
        (cam(analysis={"motion": {"masks": [[[0, 0], [2, 0], [1, 1]]]}}), "outside 0..1"),
        ({"cameras": [MINIMAL["cameras"][0], MINIMAL["cameras"][0]]}, "duplicate camera id 'cam-1'"),
        ({"runtime": {"ray": {"namespace": ""}}}, "runtime.ray.namespace"),
        (["not", "a", "mapping"], "top level must be a mapping"),
    ],
)
def test_bad_values_are_named(data, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert expected in str(err.value), f"error should mention {expected!r}: {err.value}"


def test_password_never_appears_in_errors():
    with pytest.raises(ConfigError) as err:
        parse_config(cam(source={"url": "gopher://admin:hunter2@cam.local/x"}))
    assert "hunter2" not in str(err.value), "a URL password leaked into an error message"
    assert redact_url("rtsp://admin:hunter2@cam/x") == "rtsp://admin:***@cam/x"


def test_detector_budget_is_capped_by_analysis_rate():
    config = parse_config(cam(analysis={"fps": 2, "detector": {"model": "m.cfg", "max_fps": 10}}))
    assert config.cameras[0].analysis.detector.max_fps == 2.0, "detector cannot run faster than analysis"


def test_file_sources_are_accepted_as_paths_and_file_urls():
    config = parse_config(
        {
            "cameras": [
                {"id": "a", "source": {"url": "/videos/a.mp4"}},
                {"id": "b", "source": {"url": "file:///videos/b.mp4"}},
            ]
        }
    )
    assert [c.source.is_file for c in config.cameras] == [True, True]
    assert str(config.cameras[1].source.file_path) == "/videos/b.mp4"


def test_load_config_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n  - id: x\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_load_config_reads_yaml(tmp_path):
    path = tmp_path / "cameras.yaml"
    path.write_text(
        "cameras:\n"
        "  - id: hem-12\n"
        "    name: Hẻm 12 Lê Lợi\n"
        "    source: {url: 'rtsp://cam.local/1', rtsp_transport: udp}\n"
        "    analysis: {fps: 4, width: 480}\n"
    )
    config = load_config(path)
    assert config.cameras[0].name == "Hẻm 12 Lê Lợi"
    assert config.cameras[0].source.rtsp_transport == "udp"


@pytest.mark.parametrize(
    "host", ["[::1]", "192.168.1.10", "cam-01.ward-2.local", ".".join(["c" * 63] * 3) + "." + "d" * 61]
)
def test_host_names_within_the_dns_bounds_are_accepted(host):
    config = parse_config(cam(source={"url": f"rtsp://{host}/stream"}))
    assert config.cameras[0].source.url == f"rtsp://{host}/stream", f"{host} ({len(host)} characters) is a valid host"
