"""Drive the real Pulumi Python provider host (``python -u -m pulumi.dynamic``) over gRPC.

``ProviderHost`` starts the SDK's own dynamic provider host as a subprocess, the way
the Pulumi CLI's ``pulumi-resource-pulumi-python`` launcher does, and talks to it the
way the engine does (``sdk/go/common/resource/plugin/provider_plugin.go``):

* ``Configure`` sends the whole stack config with namespaced keys in ``args`` (secrets
  kept as secrets) and the string form in ``variables``; the reply's ``acceptSecrets``
  (``False`` for the dynamic host) decides how later calls marshal secrets.
* ``Check``/``Diff``/``Create``/``Read``/``Update``/``Delete`` send properties with
  secrets *stripped* to their plain values because the host does not accept secrets,
  and keep unknowns only where the engine does (Check/Diff in preview).
* Replies are read back with ``rpc.deserialize_properties``.

Example::

    with ProviderHost() as host:
        host.configure({"vpsbackup:apiToken": "t"}, secret_keys={"vpsbackup:apiToken"})
        props = {"name": "a", "__provider": serialize_provider(MyProvider())}
        inputs, failures = host.check(urn("pulumi-python:dynamic:Resource", "a"), {}, props)
        id_, outs = host.create(urn(...), inputs)

Provider exceptions come back as ``ProviderError``, a ``grpc.RpcError`` whose
``details()`` is the host's traceback text and ``.message`` its last line.
"""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider as _sdk_serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

__all__ = [
    "PROVIDER_KEY",
    "DiffOutcome",
    "ProviderError",
    "ProviderHost",
    "serialize_provider",
    "strip_secrets",
    "urn",
]

PROVIDER_KEY = "__provider"
REPO_ROOT = Path(__file__).resolve().parents[2]
_T = TypeVar("_T")


def urn(
    type_: str, name: str, project: str = "test", stack: str = "dev", parent_type: str = ""
) -> str:
    """Build a URN as the engine does; ``parent_type`` is the parent's qualified type, if any."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def urn_name(urn_: str) -> str:
    return urn_.split("::")[-1]


def urn_type(urn_: str) -> str:
    return urn_.split("::")[2].split("$")[-1]


def serialize_provider(provider: Any) -> str:
    """The ``__provider`` string a program would send (dill pickle, base64), unwrapped."""
    return str(_sdk_serialize_provider(provider))


def strip_secrets(value: Any) -> Any:
    """Unwrap secrets recursively, as the engine does for a provider without acceptSecrets."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    # A private loop: never touches (or unsets) the calling thread's current loop.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Serialise a property bag with the SDK's serializer (Unknown -> the UNKNOWN sentinel)."""
    return _run(rpc.serialize_properties(dict(props), {}))


def from_struct(struct: struct_pb2.Struct | None, keep_unknowns: bool = True) -> dict[str, Any]:
    if struct is None:
        return {}
    out = rpc.deserialize_properties(struct, keep_unknowns)
    return dict(out) if isinstance(out, dict) else {}


class ProviderError(grpc.RpcError):
    """A failed provider call; still a ``grpc.RpcError`` with ``code()`` and ``details()``.

    ``details()`` is the host's text: for this package's errors, the message the
    CLI shows (see `install_error_format`), otherwise a traceback. ``message`` is
    the message (the traceback's last line, ``Type: text``), ``method`` the RPC
    that failed.
    """

    def __init__(self, method: str, error: grpc.RpcError) -> None:
        self.method = method
        self._code: grpc.StatusCode | None = error.code() if hasattr(error, "code") else None
        self._details: str = (error.details() if hasattr(error, "details") else "") or ""
        lines = [ln for ln in self._details.strip().splitlines() if ln.strip()]
        if lines and not lines[0].startswith("Traceback"):
            self.message = "\n".join(ln for ln in lines if not ln.startswith("[vpsbackup "))
        else:
            self.message = lines[-1].strip() if lines else str(self._code)
        super().__init__(f"{method} failed ({self._code}): {self.message}")

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details


@dataclass
class DiffOutcome:
    """What the engine reads out of a DiffResponse."""

    changes: bool | None  # None = DIFF_UNKNOWN
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    stables: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)

    @property
    def is_replace(self) -> bool:
        # The engine replaces only when there are changes AND replace keys.
        return bool(self.changes) and bool(self.replaces)


@dataclass
class _Pipes:
    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, text: str) -> None:
        with self.lock:
            self.lines.append(text)

    def text(self) -> str:
        with self.lock:
            return "".join(self.lines)


class ProviderHost:
    """The SDK's dynamic provider host in a subprocess, driven over gRPC like the engine."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
        call_timeout: float | None = 120.0,
    ) -> None:
        self._env_extra = dict(env or {})
        self._cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self._start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._threads: list[threading.Thread] = []
        self._out = _Pipes()
        self.port: int | None = None
        self.accept_secrets = False
        self.configured = False

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> ProviderHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._env_extra)
        paths = [str(REPO_ROOT)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("provider host already started")
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(self._cwd),
            env=self._environment(),
        )
        port_line: queue.Queue[str] = queue.Queue(maxsize=1)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        stdout, stderr = self._proc.stdout, self._proc.stderr

        def read_stdout() -> None:
            first = True
            for raw in iter(stdout.readline, b""):
                text = raw.decode("utf-8", "replace")
                if first:
                    first = False
                    port_line.put(text)
                else:
                    self._out.add(text)
            if first:
                port_line.put("")

        def read_stderr() -> None:
            for raw in iter(stderr.readline, b""):
                self._out.add(raw.decode("utf-8", "replace"))

        for target, name in ((read_stdout, "stdout"), (read_stderr, "stderr")):
            t = threading.Thread(target=target, name=f"provider-host-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        try:
            line = port_line.get(timeout=self._start_timeout)
        except queue.Empty:
            self.close()
            raise RuntimeError(
                f"provider host printed no port within {self._start_timeout}s"
            ) from None
        try:
            self.port = int(line.strip())
        except ValueError:
            self.close()
            raise RuntimeError(
                f"provider host did not start (first stdout line {line!r}):\n{self.output()}"
            ) from None
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()
        if proc is not None:
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        self._stub = None

    def output(self) -> str:
        """Everything the host wrote to stderr, and to stdout after the port line."""
        return self._out.text()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- plumbing --------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("provider host is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            raise ProviderError(method, exc) from exc

    def _about(self, method: str, urn_: str, **fields: Any) -> Any:
        """Call `method` about one resource: its URN, name and type, and `fields`;
        a property map (a Mapping) is sent as the engine sends one (`_wire`)."""
        request = getattr(provider_pb2, f"{method}Request")
        wired = {k: self._wire(v) if isinstance(v, Mapping) else v for k, v in fields.items()}
        return self._call(
            method, request(urn=urn_, name=urn_name(urn_), type=urn_type(urn_), **wired)
        )

    def _wire(self, props: Mapping[str, Any] | None) -> struct_pb2.Struct:
        props = dict(props or {})
        if not self.accept_secrets:
            props = strip_secrets(props)
        return to_struct(props)

    # -- the ResourceProvider calls ---------------------------------------------------

    def configure(self, config: Mapping[str, str], *, secret_keys: Iterable[str] = ()) -> None:
        """Send ConfigureRequest with the namespaced stack config, as the engine does."""
        secrets = set(secret_keys)
        args = {k: rpc.wrap_rpc_secret(v) if k in secrets else v for k, v in config.items()}
        # provider_plugin.go: variables carry "<pkg>:config:<key>" with the plain string.
        variables = {f"pulumi-python:config:{k}": str(v) for k, v in config.items()}
        resp = self._call(
            "Configure",
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(args),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
            ),
        )
        self.accept_secrets = bool(resp.acceptSecrets)
        self.configured = True

    def check(
        self, urn_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Check(olds=stored inputs, news=program inputs) -> (checked inputs, failures)."""
        resp = self._about("Check", urn_, olds=olds, news=news)
        failures = [(f.property, f.reason) for f in resp.failures]
        return from_struct(resp.inputs), failures

    def diff(
        self,
        id_: str,
        urn_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffOutcome:
        """Diff(olds=old OUTPUTS, news=checked inputs)."""
        old_inputs = old_inputs if old_inputs is not None else olds
        resp = self._about("Diff", urn_, id=id_, olds=olds, news=news, old_inputs=old_inputs)
        changes: bool | None
        if resp.changes == provider_pb2.DiffResponse.DIFF_SOME:
            changes = True
        elif resp.changes == provider_pb2.DiffResponse.DIFF_NONE:
            changes = False
        else:
            changes = None
        return DiffOutcome(
            changes=changes,
            replaces=list(resp.replaces),
            delete_before_replace=bool(resp.deleteBeforeReplace),
            stables=list(resp.stables),
            diffs=list(resp.diffs),
        )

    def create(
        self, urn_: str, props: Mapping[str, Any], *, timeout: float = 0.0
    ) -> tuple[str, dict[str, Any]]:
        resp = self._about("Create", urn_, properties=props, timeout=timeout, preview=False)
        return resp.id, from_struct(resp.properties, keep_unknowns=False)

    def read(
        self,
        id_: str,
        urn_: str,
        props: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Read -> (id ('' when gone), outputs, inputs or None when the provider gave none)."""
        resp = self._about("Read", urn_, id=id_, properties=props, inputs=inputs)
        new_inputs = from_struct(resp.inputs, False) if resp.HasField("inputs") else None
        return resp.id, from_struct(resp.properties, keep_unknowns=False), new_inputs

    def update(
        self,
        id_: str,
        urn_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> dict[str, Any]:
        resp = self._about(
            "Update",
            urn_,
            id=id_,
            olds=olds,
            news=news,
            old_inputs=old_inputs if old_inputs is not None else olds,
            timeout=timeout,
            preview=False,
        )
        return from_struct(resp.properties, keep_unknowns=False)

    def delete(
        self,
        id_: str,
        urn_: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> None:
        self._about(
            "Delete",
            urn_,
            id=id_,
            properties=props,
            old_inputs=old_inputs if old_inputs is not None else props,
            timeout=timeout,
        )
