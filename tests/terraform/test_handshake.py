"""The executable's handshake, as go-plugin's client reads it, and its TLS and socket."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pulumi_vpsbackup.terraform.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from pulumi_vpsbackup.terraform.tfplugin6 import tfplugin6_pb2 as pb
from pulumi_vpsbackup.terraform.tfplugin6 import tfplugin6_pb2_grpc as pb_grpc

from .harness import clean_env


def client_certificate() -> str:
    """A client certificate like go-plugin's (ECDSA, self-signed, for localhost), PEM."""
    import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pulumi_vpsbackup.terraform.server"],
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], address: str | None = None) -> None:
    """Kill the provider if it still runs (it serves on through SIGINT and SIGTERM, as
    OpenTofu wants), remove its socket's directory, and close its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)
    if address:
        shutil.rmtree(Path(address).parent, ignore_errors=True)


def wait_gone(pid: int, seconds: float) -> bool:
    """Whether process `pid` has ended within `seconds` (polled; it is not our child)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def orphan(tmp_path: Path, pause: float, extra: dict[str, str] | None = None) -> tuple[int, Path]:
    """Start the provider from a shell that exits after `pause` seconds without stopping
    it, as a killed OpenTofu would; returns its pid and its socket's directory."""
    out = tmp_path / "handshake"
    script = (
        f'"{sys.executable}" -m pulumi_vpsbackup.terraform.server >"{out}" 2>/dev/null & '
        f"echo $!; sleep {pause}; exit 0"
    )
    env = clean_env({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, **(extra or {})})
    shell = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    pid = int(shell.stdout.splitlines()[0])
    deadline = time.monotonic() + 60
    while "\n" not in (line := out.read_text() if out.exists() else ""):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            pytest.fail("the provider wrote no handshake line in 60 s")
        time.sleep(0.1)
    return pid, Path(line.split("|")[3]).parent


def test_handshake_line_tls_schema_and_shutdown() -> None:
    proc = start(
        {
            MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
            "PLUGIN_CLIENT_CERT": client_certificate(),
            "PLUGIN_PROTOCOL_VERSIONS": "5,6",
        }
    )
    address = None
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        core, version, network, address, protocol, cert = line.split("|")
        assert (core, version, network, protocol) == ("1", "6", "unix", "grpc")
        # The socket's directory is this user's alone.
        mode = stat.S_IMODE(os.stat(Path(address).parent).st_mode)
        assert mode == 0o700
        # The certificate: DER in base64 without padding, for the name localhost.
        assert "=" not in cert
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        parsed = x509.load_der_x509_certificate(der)
        sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
        pem = parsed.public_bytes(serialization.Encoding.PEM)
        creds = grpc.ssl_channel_credentials(root_certificates=pem)
        # go-plugin's client checks the name localhost, as this does.
        options = [("grpc.ssl_target_name_override", "localhost")]
        with grpc.secure_channel(f"unix:{address}", creds, options) as channel:
            schema = pb_grpc.ProviderStub(channel).GetProviderSchema(
                pb.GetProviderSchema.Request(), timeout=30
            )
            assert set(schema.resource_schemas) == {
                "vpsbackup_backup",
                "vpsbackup_restore",
                "vpsbackup_backup_rotation",
                "vpsbackup_backup_fleet",
            }
            token = next(a for a in schema.provider.block.attributes if a.name == "api_token")
            assert token.sensitive and token.optional
            shutdown = channel.unary_unary(
                "/plugin.GRPCController/Shutdown",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b,
            )
            shutdown(b"", timeout=30)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert not Path(address).parent.exists(), "the socket's directory is removed"
    finally:
        finish(proc, address)


def test_a_plain_connection_is_refused_when_tls_is_on() -> None:
    proc = start({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_CLIENT_CERT": client_certificate()})
    address = None
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().split("|")[3]
        with grpc.insecure_channel(f"unix:{address}") as channel:
            with pytest.raises(grpc.RpcError):
                pb_grpc.ProviderStub(channel).GetProviderSchema(
                    pb.GetProviderSchema.Request(), timeout=5
                )
    finally:
        finish(proc, address)


def test_run_by_hand_it_says_what_it_is_and_exits() -> None:
    proc = start({})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "OpenTofu or Terraform starts it" in err


def test_a_client_without_protocol_6_is_told_which_it_speaks() -> None:
    proc = start({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "5"})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    assert "speaks plugin protocol 6; this client offers 5" in err


def test_it_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    # The shell lets it start and be called, then exits without stopping it.
    pid, private = orphan(tmp_path, pause=3, extra={"VPSBACKUP_TF_CONNECT_TIMEOUT": "600"})
    if not wait_gone(pid, 30):
        os.kill(pid, 9)
        pytest.fail("the provider outlived its parent by 30 s")
    assert not private.exists(), "the socket's directory is removed"


def test_it_exits_when_no_client_calls(tmp_path: Path) -> None:
    # The parent is gone before the provider could note it (its parent is then init or a
    # subreaper, which it cannot tell from a live OpenTofu), and nobody ever connects.
    pid, private = orphan(tmp_path, pause=0, extra={"VPSBACKUP_TF_CONNECT_TIMEOUT": "2"})
    if not wait_gone(pid, 30):
        os.kill(pid, 9)
        pytest.fail("a provider nobody called lived on for 30 s")
    assert not private.exists(), "the socket's directory is removed"


def test_a_called_provider_is_not_stopped_by_the_connect_timeout() -> None:
    proc = start({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "VPSBACKUP_TF_CONNECT_TIMEOUT": "1"})
    address = None
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().split("|")[3]
        with grpc.insecure_channel(f"unix:{address}") as channel:
            stub = pb_grpc.ProviderStub(channel)
            stub.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=30)
            # Well past the timeout, it still serves.
            time.sleep(3)
            assert proc.poll() is None
            stub.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=30)
    finally:
        finish(proc, address)


def test_sigint_and_sigterm_leave_it_serving_until_shutdown() -> None:
    # Both reach the whole process group (Ctrl-C; a CI runner cancelling a job);
    # OpenTofu takes them as an interrupt and stops the provider with its own calls.
    proc = start({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE})
    address = None
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().split("|")[3]
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        with grpc.insecure_channel(f"unix:{address}") as channel:
            pb_grpc.ProviderStub(channel).GetProviderSchema(
                pb.GetProviderSchema.Request(), timeout=30
            )
            assert proc.poll() is None
            channel.unary_unary(
                "/plugin.GRPCController/Shutdown",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b,
            )(b"", timeout=30)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert not Path(address).parent.exists()
    finally:
        finish(proc, address)
