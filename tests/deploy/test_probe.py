"""The exec probe the chart runs when the front door speaks TLS, against the real
gateway (over an in-memory control plane) with a real certificate chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cluster.deploy.probe import EXIT_NOT_SERVING, EXIT_SERVING, main
from cluster.gateway.server import SERVICE_NAMES
from tests.gateway.conftest import default_cameras, server_config, start_gateway
from tests.gateway.fakes import FakeControl, LoopThread
from tests.gateway.test_tls import make_ca, make_leaf


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    ca, ca_key, ca_cert = make_ca("probe test CA")
    server = make_leaf("frontdoor", ca_key, ca_cert, server=True)  # valid for localhost and 127.0.0.1
    paths = {}
    for name, data in {
        "ca.crt": ca.cert,
        "other-ca.crt": make_ca("another CA")[0].cert,
        "tls.crt": server.cert,
        "tls.key": server.key,
    }.items():
        paths[name] = directory / name
        paths[name].write_bytes(data)
    return paths


@pytest.fixture
def tls_gateway(certificates) -> Iterator:
    loop_thread = LoopThread()
    control = loop_thread.call(lambda: FakeControl(default_cameras()))
    tls = {"cert_file": str(certificates["tls.crt"]), "key_file": str(certificates["tls.key"])}
    gateway = start_gateway(loop_thread, control, server_config(tls=tls))
    yield gateway
    gateway.run(gateway.server.stop(0))
    loop_thread.close()


@pytest.mark.parametrize("service", ["", *SERVICE_NAMES])
def test_a_serving_tls_front_door_passes(tls_gateway, certificates, service):
    argv = ["--address", tls_gateway.target, "--service", service, "--ca", str(certificates["ca.crt"])]
    assert main([*argv, "--server-name", "localhost"]) == EXIT_SERVING, f"{service or 'server'} is SERVING"


def test_an_untrusted_certificate_fails(tls_gateway, certificates, capsys):
    argv = ["--address", tls_gateway.target, "--ca", str(certificates["other-ca.crt"]), "--server-name", "localhost"]
    assert main(argv) == EXIT_NOT_SERVING, "a certificate of another CA is not trusted"
    assert "UNAVAILABLE" in capsys.readouterr().err, "the reason is on stderr"


def test_an_unknown_service_fails(tls_gateway, certificates, capsys):
    argv = ["--address", tls_gateway.target, "--service", "matthan.v1.Nothing", "--ca", str(certificates["ca.crt"])]
    assert main([*argv, "--server-name", "localhost"]) == EXIT_NOT_SERVING, "a service the server lacks fails"
    assert "NOT_FOUND" in capsys.readouterr().err, "with the health service's answer"


def test_a_stopping_front_door_fails(tls_gateway, certificates, capsys):
    tls_gateway.run(tls_gateway.server.health.enter_graceful_shutdown())
    argv = ["--address", tls_gateway.target, "--service", SERVICE_NAMES[0], "--ca", str(certificates["ca.crt"])]
    assert main([*argv, "--server-name", "localhost"]) == EXIT_NOT_SERVING, "NOT_SERVING during shutdown fails"
    assert "NOT_SERVING" in capsys.readouterr().err, "and says so"
