"""`terraform-provider-vpsbackup`: the provider as OpenTofu and Terraform start it.

OpenTofu runs the executable with a magic cookie in its environment and reads
one line from its stdout (hashicorp/go-plugin's handshake):

    1|6|unix|/tmp/vpsbackup-tf-XXXX/provider.sock|grpc|CERT

the plugin protocol's version (1), the provider protocol's (6: tfplugin6), where
the gRPC server listens, and, with automatic TLS (OpenTofu turns it on and sends
its own certificate in `PLUGIN_CLIENT_CERT`), this server's certificate,
self-signed for the name `localhost`, as DER in unpadded base64; OpenTofu then
trusts that certificate alone. Go's client sends no certificate to this
server's TLS, so the client is not verified by certificate: the socket lives in
a directory of mode 0700, which only this user (and root) can enter.

Beside tfplugin6.Provider it answers go-plugin's own services: the health check
of the service `plugin`, and `plugin.GRPCController/Shutdown`, which OpenTofu
calls when it is done (the process exits at once rather than being killed after
a grace period). The process also exits when its parent is gone, and when no
client has called it within a minute of its start (a parent that died before
this process could note it).
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from .._version import __version__
from . import cty
from .provider import (
    ERROR,
    Diagnostic,
    TerraformError,
    TerraformProvider,
    error_diagnostic,
)
from .schema import DATA_SOURCES, PROVIDER, RESOURCES, Attr, Kind
from .tfplugin6 import tfplugin6_pb2, tfplugin6_pb2_grpc

# Generated at build time (tools/tfproto.sh) and untyped: checked through use.
pb: Any = tfplugin6_pb2
pb_grpc: Any = tfplugin6_pb2_grpc

__all__ = ["main"]

#: go-plugin's handshake for Terraform providers (the same in OpenTofu and Terraform).
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL = 1
PROTOCOL_VERSION = 6
#: Calls served at once: OpenTofu's -parallelism (default 10) and its reads.
MAX_THREADS = 64
_MAX_MESSAGE = 256 * 1024 * 1024


# ---- values and diagnostics ---------------------------------------------------------
def _decode(value: Any, kind_type: Any) -> Any:
    if value is None:
        return None
    if value.msgpack:
        return cty.decode(value.msgpack, kind_type)
    if value.json:
        import json

        return json.loads(value.json)
    return None


def _encode(value: Any, kind_type: Any) -> Any:
    return pb.DynamicValue(msgpack=cty.encode(value, kind_type))


def _diagnostics(found: list[Diagnostic]) -> list[Any]:
    out = []
    for d in found:
        severity = pb.Diagnostic.ERROR if d.severity == ERROR else pb.Diagnostic.WARNING
        message = pb.Diagnostic(severity=severity, summary=d.summary, detail=d.detail)
        if d.attribute:
            message.attribute.steps.extend(
                pb.AttributePath.Step(attribute_name=name) for name in d.attribute
            )
        out.append(message)
    return out


def _attribute(attr: Attr) -> Any:
    return pb.Schema.Attribute(
        name=attr.name,
        type=cty.type_json(attr.type),
        description=attr.description,
        description_kind=pb.MARKDOWN,
        required=attr.required,
        optional=attr.optional,
        computed=attr.computed,
        sensitive=attr.sensitive,
    )


def _schema(kind: Kind) -> Any:
    block = pb.Schema.Block(version=0, description=kind.description, description_kind=pb.MARKDOWN)
    block.attributes.extend(_attribute(attr) for attr in kind.attrs)
    for nested in kind.blocks:
        inner = pb.Schema.Block(description=nested.description, description_kind=pb.MARKDOWN)
        inner.attributes.extend(_attribute(attr) for attr in nested.attrs)
        block.block_types.append(
            pb.Schema.NestedBlock(
                type_name=nested.name, block=inner, nesting=pb.Schema.NestedBlock.SINGLE
            )
        )
    return pb.Schema(version=0, block=block)


class Servicer(tfplugin6_pb2_grpc.ProviderServicer):
    """tfplugin6.Provider over `TerraformProvider`; every call is synchronous."""

    def __init__(self, provider: TerraformProvider | None = None) -> None:
        self.provider = provider or TerraformProvider()

    def _run(self, call: Callable[[], Any]) -> tuple[Any, list[Diagnostic], Any]:
        """`call()`: its result, its diagnostics, and what a failed create made."""
        try:
            result, found = self.provider.call(call)
            return result, found, None
        except TerraformError as exc:
            return None, exc.diagnostics, exc.state
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            return None, [error_diagnostic(exc)], None

    # ---- schema ---------------------------------------------------------------------
    def GetMetadata(self, request: Any, context: Any) -> Any:
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(get_provider_schema_optional=False),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in RESOURCES],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=n) for n in DATA_SOURCES],
        )

    def GetProviderSchema(self, request: Any, context: Any) -> Any:
        response = pb.GetProviderSchema.Response(
            provider=_schema(PROVIDER),
            server_capabilities=pb.ServerCapabilities(),
        )
        for name, kind in RESOURCES.items():
            response.resource_schemas[name].CopyFrom(_schema(kind))
        for name, kind in DATA_SOURCES.items():
            response.data_source_schemas[name].CopyFrom(_schema(kind))
        return response

    def GetFunctions(self, request: Any, context: Any) -> Any:
        return pb.GetFunctions.Response()

    def GetResourceIdentitySchemas(self, request: Any, context: Any) -> Any:
        return pb.GetResourceIdentitySchemas.Response()

    # ---- provider ---------------------------------------------------------------------
    def ValidateProviderConfig(self, request: Any, context: Any) -> Any:
        config = _decode(request.config, PROVIDER.type) or {}
        result, found, _ = self._run(lambda: self.provider.validate_provider(config))
        return pb.ValidateProviderConfig.Response(
            diagnostics=_diagnostics([*(result or []), *found])
        )

    def ConfigureProvider(self, request: Any, context: Any) -> Any:
        config = _decode(request.config, PROVIDER.type) or {}
        result, found, _ = self._run(lambda: self.provider.configure(config))
        return pb.ConfigureProvider.Response(diagnostics=_diagnostics([*(result or []), *found]))

    def StopProvider(self, request: Any, context: Any) -> Any:
        self.provider.stop()
        return pb.StopProvider.Response()

    # ---- resources ----------------------------------------------------------------------
    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        kind = RESOURCES.get(request.type_name)
        if kind is None:
            return pb.ValidateResourceConfig.Response(
                diagnostics=_diagnostics(self._unknown_type(request.type_name))
            )
        config = _decode(request.config, kind.type) or {}
        result, found, _ = self._run(
            lambda: self.provider.validate_resource(request.type_name, config)
        )
        return pb.ValidateResourceConfig.Response(
            diagnostics=_diagnostics([*(result or []), *found])
        )

    def ValidateDataResourceConfig(self, request: Any, context: Any) -> Any:
        if request.type_name not in DATA_SOURCES:
            return pb.ValidateDataResourceConfig.Response(
                diagnostics=_diagnostics(self._unknown_type(request.type_name))
            )
        return pb.ValidateDataResourceConfig.Response()

    def _unknown_type(self, type_name: str) -> list[Diagnostic]:
        try:
            self.provider.kind(type_name)
        except TerraformError as exc:
            return exc.diagnostics
        return []

    def UpgradeResourceState(self, request: Any, context: Any) -> Any:
        kind = RESOURCES.get(request.type_name)
        if kind is None:
            return pb.UpgradeResourceState.Response(
                diagnostics=_diagnostics(self._unknown_type(request.type_name))
            )
        import json

        raw = json.loads(request.raw_state.json or b"{}")
        state = self.provider.upgrade(request.type_name, raw)
        state = _typed(kind, state)
        return pb.UpgradeResourceState.Response(upgraded_state=_encode(state, kind.type))

    def ReadResource(self, request: Any, context: Any) -> Any:
        kind = RESOURCES[request.type_name]
        state = _decode(request.current_state, kind.type)
        result, found, _ = self._run(lambda: self.provider.read(request.type_name, state))
        if any(d.severity == ERROR for d in found):
            return pb.ReadResource.Response(
                new_state=request.current_state,
                diagnostics=_diagnostics(found),
                private=request.private,
            )
        return pb.ReadResource.Response(
            new_state=_encode(result, kind.type),
            diagnostics=_diagnostics(found),
            private=request.private,
        )

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        kind = RESOURCES[request.type_name]
        prior = _decode(request.prior_state, kind.type)
        proposed = _decode(request.proposed_new_state, kind.type)
        config = _decode(request.config, kind.type)
        result, found, _ = self._run(
            lambda: self.provider.plan(request.type_name, prior, proposed, config)
        )
        if result is None:
            return pb.PlanResourceChange.Response(diagnostics=_diagnostics(found))
        response = pb.PlanResourceChange.Response(
            planned_state=_encode(result.state, kind.type),
            diagnostics=_diagnostics(found),
            planned_private=request.prior_private,
        )
        for name in result.requires_replace:
            response.requires_replace.append(
                pb.AttributePath(steps=[pb.AttributePath.Step(attribute_name=name)])
            )
        return response

    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        kind = RESOURCES[request.type_name]
        prior = _decode(request.prior_state, kind.type)
        planned = _decode(request.planned_state, kind.type)
        config = _decode(request.config, kind.type)
        result, found, made = self._run(
            lambda: self.provider.apply(request.type_name, prior, planned, config)
        )
        failed = any(d.severity == ERROR for d in found)
        if failed:
            # What a failed create made (tainted), else the state as it was.
            kept = made if made is not None else prior
            return pb.ApplyResourceChange.Response(
                new_state=_encode(kept, kind.type), diagnostics=_diagnostics(found)
            )
        return pb.ApplyResourceChange.Response(
            new_state=_encode(result, kind.type),
            diagnostics=_diagnostics(found),
            private=request.planned_private,
        )

    def ImportResourceState(self, request: Any, context: Any) -> Any:
        kind = RESOURCES.get(request.type_name)
        if kind is None:
            return pb.ImportResourceState.Response(
                diagnostics=_diagnostics(self._unknown_type(request.type_name))
            )
        result, found, _ = self._run(
            lambda: self.provider.import_state(request.type_name, request.id)
        )
        if result is None:
            return pb.ImportResourceState.Response(diagnostics=_diagnostics(found))
        return pb.ImportResourceState.Response(
            imported_resources=[
                pb.ImportResourceState.ImportedResource(
                    type_name=request.type_name, state=_encode(result, kind.type)
                )
            ],
            diagnostics=_diagnostics(found),
        )

    # ---- data sources ---------------------------------------------------------------------
    def ReadDataSource(self, request: Any, context: Any) -> Any:
        kind = DATA_SOURCES[request.type_name]
        config = _decode(request.config, kind.type) or {}
        result, found, _ = self._run(lambda: self.provider.read_data(request.type_name, config))
        if result is None:
            return pb.ReadDataSource.Response(diagnostics=_diagnostics(found))
        return pb.ReadDataSource.Response(
            state=_encode(result, kind.type), diagnostics=_diagnostics(found)
        )


def _typed(kind: Kind, state: dict[str, Any]) -> dict[str, Any]:
    """A state read back from its JSON: a `dynamic` attribute's value is stored there as
    `{"value": ..., "type": ...}` and becomes a `Dynamic` again."""
    for attr in kind.attrs:
        value = state.get(attr.name)
        if attr.type == "dynamic" and isinstance(value, dict) and set(value) == {"type", "value"}:
            state[attr.name] = cty.Dynamic(value["type"], value["value"])
    return state


# ---- go-plugin's own services ----------------------------------------------------------------
def _go_plugin_handlers(shutdown: Callable[[], None]) -> list[Any]:
    """The health check (`grpc.health.v1.Health/Check`, status SERVING for every service)
    and `plugin.GRPCController/Shutdown`, written without generated code: their
    messages are one enum field and empty."""

    def check(request: bytes, context: Any) -> bytes:
        return b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    def stop(request: bytes, context: Any) -> bytes:
        threading.Thread(target=shutdown, daemon=True).start()
        return b""

    def raw(fn: Callable[[bytes, Any], bytes]) -> Any:
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=lambda b: b, response_serializer=lambda b: b
        )

    return [
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": raw(check)}),
        grpc.method_handlers_generic_handler("plugin.GRPCController", {"Shutdown": raw(stop)}),
    ]


# ---- automatic mutual TLS ----------------------------------------------------------------------
def server_certificate() -> tuple[bytes, bytes, bytes]:
    """A fresh self-signed certificate for `localhost`: (key PEM, cert PEM, cert DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vpsbackup"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    )


class _FirstCall(grpc.ServerInterceptor):
    """Notes that a client has called (any method, go-plugin's health check included)."""

    def __init__(self, called: threading.Event) -> None:
        self.called = called

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        self.called.set()
        return continuation(handler_call_details)


def serve(
    environ: dict[str, str] | None = None,
    out: Any = None,
    on_stop: Callable[[], None] = lambda: None,
    called: threading.Event | None = None,
) -> Callable[[], None]:
    """Start the server and write the handshake line; returns what stops it (as
    `plugin.GRPCController/Shutdown` does, then `on_stop`). `called` is set at
    the first call a client makes."""
    environ = dict(os.environ if environ is None else environ)
    out = out or sys.stdout
    server = grpc.server(
        ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="vpsbackup-tf"),
        interceptors=[_FirstCall(called or threading.Event())],
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ],
    )
    stopping = threading.Lock()
    stopped = threading.Event()

    def shutdown() -> None:
        # Once, whoever calls first (the Shutdown RPC, a signal, a watcher, `main`);
        # a second caller returns when the first is done, the socket's directory gone.
        with stopping:
            if stopped.is_set():
                return
            stopped.set()
            server.stop(grace=1.0)
            shutil.rmtree(private, ignore_errors=True)
            on_stop()

    pb_grpc.add_ProviderServicer_to_server(Servicer(), server)
    server.add_generic_rpc_handlers(_go_plugin_handlers(shutdown))
    # A Unix socket in a directory only this user can enter: the access control that
    # OpenTofu's client certificate cannot give here (see `serve`'s notes).
    private = tempfile.mkdtemp(prefix="vpsbackup-tf-")
    os.chmod(private, 0o700)
    network = "unix"
    address = f"unix:{os.path.join(private, 'provider.sock')}"
    client_cert = environ.get("PLUGIN_CLIENT_CERT", "").strip()
    cert_field = ""
    if client_cert:
        key_pem, cert_pem, cert_der = server_certificate()
        credentials = grpc.ssl_server_credentials(
            [(key_pem, cert_pem)],
            root_certificates=client_cert.encode(),
            require_client_auth=False,
        )
        bound = server.add_secure_port(address, credentials)
        cert_field = base64.b64encode(cert_der).decode().rstrip("=")
    else:
        bound = server.add_insecure_port(address)
    server.start()
    if network == "tcp":
        where = f"127.0.0.1:{bound}"
    else:
        where = address[len("unix:") :]
    out.write(f"{CORE_PROTOCOL}|{PROTOCOL_VERSION}|{network}|{where}|grpc|{cert_field}\n")
    out.flush()
    return shutdown


def _watch_parent(parent: int, stop: Callable[[int], None]) -> None:
    """Stop when OpenTofu is gone (killed outright, it cannot stop its plugins)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            stop(0)
            return


def _expect_a_client(called: threading.Event, seconds: float, stop: Callable[[int], None]) -> None:
    """Exit when no client calls within `seconds` of the handshake. go-plugin's client
    connects at once after reading the handshake line; a provider nobody calls was
    started by a parent that died before `main` could note its pid (a parent it
    therefore cannot watch), and would otherwise live on."""
    if not called.wait(seconds):
        sys.stderr.write(
            f"terraform-provider-vpsbackup: no client connected within {seconds:g} s; exiting\n"
        )
        sys.stderr.flush()
        stop(1)


def _connect_timeout() -> float:
    """Seconds to wait for the first call: go-plugin's own start timeout (one minute);
    `VPSBACKUP_TF_CONNECT_TIMEOUT` shortens it for tests."""
    try:
        seconds = float(os.environ.get("VPSBACKUP_TF_CONNECT_TIMEOUT", "60"))
    except ValueError:
        return 60.0
    return seconds if seconds > 0 else 60.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help", "--version"):
        sys.stdout.write(
            f"terraform-provider-vpsbackup {__version__}: the vpsbackup provider for OpenTofu "
            "and Terraform (plugin protocol 6). They start it themselves; install it through a "
            "filesystem mirror (see docs/terraform.md).\n"
        )
        return 0
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(
            "terraform-provider-vpsbackup is a provider plugin: OpenTofu or Terraform starts "
            'it. Declare `vpsbackup = { source = "vpsbackup/vpsbackup" }` in '
            "required_providers and run `tofu init` (see docs/terraform.md).\n"
        )
        return 1
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if versions and str(PROTOCOL_VERSION) not in versions.split(","):
        sys.stderr.write(
            f"terraform-provider-vpsbackup speaks plugin protocol {PROTOCOL_VERSION}; this "
            f"client offers {versions} (OpenTofu 1.6+ and Terraform 1.0+ speak 6)\n"
        )
        return 1
    parent = os.getppid()
    # Ctrl-C reaches the whole process group, and so does a CI runner's SIGTERM when
    # it cancels a job; OpenTofu takes either as an interrupt, sends StopProvider and
    # waits for the calls in flight, which hand over what they started. So the
    # provider serves on through both (go-plugin's own servers swallow the interrupt)
    # and ends when OpenTofu says so (Shutdown), or when OpenTofu is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    done = threading.Event()
    called = threading.Event()
    shutdown = serve(on_stop=done.set, called=called)
    status = [0]

    def stop(code: int) -> None:
        status[0] = code
        shutdown()

    threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    threading.Thread(
        target=_expect_a_client, args=(called, _connect_timeout(), stop), daemon=True
    ).start()
    done.wait()
    shutdown()
    # Threads still in an API call or a wait would keep the interpreter alive.
    os._exit(status[0])


if __name__ == "__main__":
    sys.exit(main())
