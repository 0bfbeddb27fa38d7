"""Drive the real Pulumi Python provider host (``python -u -m pulumi.dynamic``) over gRPC.

What tests/provider and the benchmarks call providers through, and what the engine
harness (:mod:`vpsbackup_dev.engine`) sends every dynamic resource's steps to.

``ProviderHost`` starts the SDK's own dynamic provider host as a subprocess, the way
the Pulumi CLI's ``pulumi-resource-pulumi-python`` launcher does, and talks to it the
way the engine does (pulumi/pulumi v3.276.0,
``sdk/go/common/resource/plugin/provider_plugin.go``):

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

The host's stdout and stderr are read by threads, so what it printed during a call
may not have been read yet when the call returns: ``host.wait_for_output(text)``
waits (bounded) for a line that must show, ``host.settled_output()`` returns all it
printed so far, read, before a test asserts that something is absent, and
``host.mark()`` is where the output ends now (``since=`` for ``wait_for_output``).

Provider exceptions come back as ``ProviderError``, a ``grpc.RpcError`` whose
``details()`` is the host's traceback text and ``.message`` its last line.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider as _sdk_serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from vpsbackup_dev import REPO

__all__ = [
    "OUTPUT_TIMEOUT",
    "PROVIDER_KEY",
    "DiffOutcome",
    "ProviderError",
    "ProviderHost",
    "serialize_provider",
    "strip_secrets",
    "urn",
]

PROVIDER_KEY = "__provider"
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


#: How long a test waits for the host's output (read by threads) to show a line
#: or to catch up: generous for a loaded 2-core CI machine, bounded so a missing
#: line fails the test with what the host did print instead of hanging it.
OUTPUT_TIMEOUT = 20.0

# A line only the test side writes into the host's own stdout/stderr pipes (the
# host never prints a NUL): it arrives behind everything the host wrote before.
_SYNC = "\x00provider-host-sync "
_SYNC_LINE = re.compile(re.escape(_SYNC) + r"(\d+)\n")


class _Output:
    """What the host wrote, as the reader threads (one per pipe) have read it so far."""

    def __init__(self, streams: Iterable[str]) -> None:
        self._text = ""
        self._cond = threading.Condition()
        self._synced = dict.fromkeys(streams, 0)  # the last sync line each reader saw
        self._ended: set[str] = set()  # readers that reached the end of their pipe

    def add(self, stream: str, text: str) -> None:
        with self._cond:
            for seq in _SYNC_LINE.findall(text):
                self._synced[stream] = max(self._synced[stream], int(seq))
            self._text += _SYNC_LINE.sub("", text)
            self._cond.notify_all()

    def end(self, stream: str) -> None:
        with self._cond:
            self._ended.add(stream)
            self._cond.notify_all()

    def text(self) -> str:
        with self._cond:
            return self._text

    def caught_up(self, seq: int) -> bool:
        return all(n >= seq or s in self._ended for s, n in self._synced.items())

    def wait(self, done: Callable[[str], bool], timeout: float) -> bool:
        """Wait until `done(text so far)` or every reader has ended; whether `done`."""
        with self._cond:
            self._cond.wait_for(
                lambda: done(self._text) or self._ended == set(self._synced), timeout
            )
            return done(self._text)


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
        self._cwd = Path(cwd) if cwd is not None else REPO
        self._start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._threads: list[threading.Thread] = []
        self._out = _Output(("stdout", "stderr"))
        # Our own write ends of the host's stdout and stderr pipes, for `settled_output`.
        self._write_ends: list[int] = []
        self._pipes: list[io.BufferedReader] = []  # our read ends
        self._syncs = itertools.count(1)
        self._output_complete = False  # every reader reached the end of its pipe at close
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
        # This checkout first, as pytest puts it on the tests' sys.path: the host
        # imports the same pulumi_vpsbackup as its caller, and a provider class
        # pickled by reference from any module of the checkout unpickles there.
        env = dict(os.environ)
        env.update(self._env_extra)
        paths = [str(REPO)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("provider host already started")
        # The pipes are ours, not Popen's: we keep their write ends so that
        # `settled_output` can put a line in behind whatever the host wrote.
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self._write_ends = [out_w, err_w]
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-u", "-m", "pulumi.dynamic"],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                cwd=str(self._cwd),
                env=self._environment(),
            )
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            self._close_write_ends()
            raise
        port_line: queue.Queue[str] = queue.Queue(maxsize=1)
        stdout, stderr = os.fdopen(out_r, "rb"), os.fdopen(err_r, "rb")
        self._pipes = [stdout, stderr]

        def read_stdout() -> None:
            first = True
            for raw in iter(stdout.readline, b""):
                text = raw.decode("utf-8", "replace")
                if first and not text.startswith(_SYNC):
                    first = False
                    port_line.put(text)
                else:
                    self._out.add("stdout", text)
            self._out.end("stdout")
            if first:
                port_line.put("")

        def read_stderr() -> None:
            for raw in iter(stderr.readline, b""):
                self._out.add("stderr", raw.decode("utf-8", "replace"))
            self._out.end("stderr")

        for target, name in ((read_stdout, "stdout"), (read_stderr, "stderr")):
            t = threading.Thread(target=target, name=f"provider-host-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        line = self._port_line(port_line)
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

    def _port_line(self, port_line: queue.Queue[str]) -> str:
        """The host's first stdout line; "" when it exits first (the readers see
        the end of its pipes only once our write ends are closed too)."""
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            try:
                return port_line.get(timeout=0.05)
            except queue.Empty:
                if self._proc.poll() is not None:
                    self._close_write_ends()
                    return port_line.get(timeout=self._start_timeout)
        self.close()
        raise RuntimeError(f"provider host printed no port within {self._start_timeout}s")

    def _close_write_ends(self) -> None:
        ends, self._write_ends = self._write_ends, []
        for fd in ends:
            os.close(fd)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        # The host is gone: once our write ends are closed too, each reader reads
        # what is left in its pipe and ends, so the output is then complete.
        self._close_write_ends()
        for t in self._threads:
            t.join(timeout=OUTPUT_TIMEOUT)
        self._output_complete = not any(t.is_alive() for t in self._threads)
        if self._output_complete:  # else a reader still reads it: leave its pipe open
            for pipe in self._pipes:
                pipe.close()
            self._pipes = []
            self._threads.clear()
        self._stub = None

    def output(self) -> str:
        """Everything the host wrote to stderr, and to stdout after the port line,
        that the reader threads have read SO FAR: a line the host printed during a
        call may still be on its way when the call returns. To test what it
        printed, use `wait_for_output` (a line that must show) or
        `settled_output` (all of it, e.g. to check that something is absent)."""
        return self._out.text()

    def settled_output(self, timeout: float = OUTPUT_TIMEOUT) -> str:
        """Everything the host wrote before this call, once the readers have read it.

        A sync line is written into the host's stdout and stderr pipes behind
        what the host wrote (a call's lines are in its pipes before the call
        returns), and this waits until each reader has read up to it: only then
        can a test rely on a line being ABSENT. After `close`, the whole output.
        """
        if self._proc is None:
            if self._threads and not self._output_complete:
                raise AssertionError(
                    "the provider host's output was still being read when it closed;"
                    f" read so far:\n{self.output()}"
                )
            return self.output()
        seq = next(self._syncs)
        for fd in self._write_ends:
            os.write(fd, f"{_SYNC}{seq}\n".encode())
        if not self._out.wait(lambda _text: self._out.caught_up(seq), timeout):
            raise AssertionError(
                f"the provider host's output readers did not catch up within {timeout}s;"
                f" read so far:\n{self.output()}"
            )
        return self.output()

    def mark(self) -> int:
        """Where the host's output ends now (all of it read): `since` for `wait_for_output`."""
        return len(self.settled_output())

    def wait_for_output(self, text: str, *, since: int = 0, timeout: float = OUTPUT_TIMEOUT) -> str:
        """Wait until the host has printed `text` (after offset `since`, see `mark`);
        returns its output from `since`. Fails after `timeout` seconds, or as soon
        as the host's pipes are closed without it, with what the host did print."""
        if not self._out.wait(lambda out: text in out[since:], timeout):
            raise AssertionError(
                f"the provider host did not print {text!r} within {timeout}s;"
                f" it printed:\n{self.output()[since:]}"
            )
        return self.output()[since:]

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
