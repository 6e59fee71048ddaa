"""TLS and mutual TLS with certificates made by the test."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cluster.client import ClientTls, MatthanClient, Unavailable

from .conftest import TOKENS


@dataclass
class Pem:
    cert: bytes
    key: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str) -> tuple[Pem, ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _pem(cert, key), key, cert


def make_leaf(common_name: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, server: bool) -> Pem:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return _pem(builder.sign(ca_key, hashes.SHA256()), key)


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    return Pem(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


@dataclass
class Pki:
    ca: Pem
    server: Pem
    client: Pem
    rogue_client: Pem  # signed by a CA the server does not trust
    dir: Path

    def write(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    ca, ca_key, ca_cert = make_ca("Mat Than test CA")
    _, rogue_key, rogue_cert = make_ca("Someone else's CA")
    return Pki(
        ca=ca,
        server=make_leaf("gateway", ca_key, ca_cert, server=True),
        client=make_leaf("duty-room", ca_key, ca_cert, server=False),
        rogue_client=make_leaf("intruder", rogue_key, rogue_cert, server=False),
        dir=tmp_path_factory.mktemp("pki"),
    )


def tls_config(pki: Pki, mutual: bool) -> dict:
    config = {
        "cert_file": str(pki.write("server.pem", pki.server.cert)),
        "key_file": str(pki.write("server.key", pki.server.key)),
    }
    if mutual:
        config["client_ca_file"] = str(pki.write("ca.pem", pki.ca.cert))
    return config


def client(gateway, tls: ClientTls | None) -> MatthanClient:
    return MatthanClient(gateway.target, TOKENS["admin"][0], tls=tls, timeout_s=5)


def test_tls_handshake_with_a_trusted_server_certificate(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=False))
    with client(gateway, ClientTls(root_ca=pki.ca.cert)) as c:
        assert [v.config.id for v in c.list_cameras()] == ["cam-a", "cam-b", "cam-c"]


def test_tls_server_refuses_plaintext_clients(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=False))
    with client(gateway, None) as c, pytest.raises(Unavailable):
        c.list_cameras()


def test_tls_server_answers_nothing_over_plaintext_not_even_health(make_gateway, pki) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from cluster.proto.matthan.v1 import cameras_pb2, cameras_pb2_grpc

    gateway = make_gateway(tls=tls_config(pki, mutual=False))
    channel = gateway.channel()  # insecure
    calls = {
        "health": lambda: health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5),
        "ListCameras with a token": lambda: cameras_pb2_grpc.CamerasStub(channel).ListCameras(
            cameras_pb2.ListCamerasRequest(), metadata=(("authorization", f"Bearer {TOKENS['admin'][0]}"),), timeout=5
        ),
    }
    for what, call in calls.items():
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE, f"{what} over plaintext: {err.value.code()}"
    with client(gateway, ClientTls(root_ca=pki.ca.cert)) as c:
        assert c.health() == "SERVING", "TLS clients are still served"


def test_client_refuses_a_server_certificate_it_does_not_trust(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=False))
    with client(gateway, ClientTls(root_ca=pki.rogue_client.cert)) as c, pytest.raises(Unavailable):
        c.list_cameras()


def test_mtls_accepts_a_client_certificate_from_the_trusted_ca(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=True))
    tls = ClientTls(root_ca=pki.ca.cert, client_cert=pki.client.cert, client_key=pki.client.key)
    with client(gateway, tls) as c:
        assert c.health() == "SERVING"
        assert len(c.list_cameras()) == 3


def test_mtls_refuses_clients_without_a_certificate(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=True))
    with client(gateway, ClientTls(root_ca=pki.ca.cert)) as c, pytest.raises(Unavailable):
        c.list_cameras()


def test_mtls_refuses_a_certificate_from_another_ca(make_gateway, pki) -> None:
    gateway = make_gateway(tls=tls_config(pki, mutual=True))
    tls = ClientTls(root_ca=pki.ca.cert, client_cert=pki.rogue_client.cert, client_key=pki.rogue_client.key)
    with client(gateway, tls) as c, pytest.raises(Unavailable):
        c.list_cameras()


def test_tls_files_that_do_not_exist_are_named(loop_thread, pki) -> None:
    from cluster.gateway.server import GatewayServer

    from .conftest import server_config
    from .fakes import FakeControl

    config = server_config(tls={"cert_file": str(pki.dir / "missing.pem"), "key_file": str(pki.dir / "missing.key")})
    with pytest.raises(ValueError, match=r"missing\.key does not exist"):
        loop_thread.run(GatewayServer(FakeControl(), config).start())
