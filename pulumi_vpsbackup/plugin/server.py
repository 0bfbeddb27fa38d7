"""`pulumi-resource-vpsbackup`: the gRPC server the Pulumi engine starts and talks to.

The engine runs the executable with its own address as the argument (after its
logging flags) and reads the port from the first line of stdout. Rules to keep:
every handler is a coroutine on one `grpc.aio` loop and the core's blocking
calls run in a thread pool; a `VpsBackupError` reaches the CLI as its message
alone, anything else keeps its traceback; messages go to the engine's `Log`
service (`EngineLog`), never only to stdout/stderr. What the user sees:
docs/native-plugin.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, TypeVar

import grpc
import grpc.aio
from google.protobuf import any_pb2, empty_pb2
from google.rpc import status_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    plugin_pb2,
    provider_pb2,
    provider_pb2_grpc,
)

from .._version import __version__
from ..client.errors import VpsBackupError, WaitCancelledError
from ..provider.core.base import messages_to
from . import wire
from .provider import (
    IDENTITY_KEY,
    NativeProvider,
    config_changes,
    config_failures,
    config_identity,
)

#: Threads for the core's blocking calls: each waiting backup holds one.
MAX_THREADS = 512
_MAX_MESSAGE = 400 * 1024 * 1024  # what Pulumi's own servers accept

T = TypeVar("T")

# Words of the core's messages that name a dynamic-provider input: said as the
# native schema says them (`server_id` is `serverId` here, and the wait is
# bounded by custom timeouts, not a `timeout` input).
_NATIVE_WORDS = [
    (re.compile(r"raise `timeout` first"), "raise customTimeouts.create first"),
    # A query's error starts with its name (`get_latest_backup: no backup matches ...`).
    (re.compile(r"\bget_backups\b"), "getBackups"),
    (re.compile(r"\bget_latest_backup\b"), "getLatestBackup"),
    (re.compile(r"\bwait_for_backups\b"), "waitForBackups"),
    (re.compile(r"\bbackup_ids\b"), "backupIds"),
    (re.compile(r"\bexisting_backup_id\b"), "existingBackupId"),
    # Not in a URL's query (`?server_id=1`), which is the API's, not ours.
    (re.compile(r"(?<![?&])\bserver_id\b"), "serverId"),
    (re.compile(r"(?<![?&])\bbackup_id\b"), "backupId"),
    (re.compile(r"\bserver_ids\b"), "serverIds"),
    (re.compile(r"\bwait_for_completion\b"), "waitForCompletion"),
    (
        re.compile(r"ResourceOptions\(delete_before_replace=True\)"),
        "the deleteBeforeReplace resource option",
    ),
]


def native_text(message: str) -> str:
    for pattern, replacement in _NATIVE_WORDS:
        message = pattern.sub(replacement, message)
    return message


def error_message(exc: BaseException) -> str:
    """What the CLI shows for a failed call."""
    if isinstance(exc, VpsBackupError):
        return native_text(str(exc).strip() or type(exc).__name__)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (
        f"internal error in the vpsbackup provider plugin ({type(exc).__name__}: {exc}); "
        "please report it with the text below\n" + text
    )


def schema_text() -> str:
    """The package schema as the engine and SDK generation get it: schema.json with
    this package's version (kept only in `_version.py`) after its name."""
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    versioned = {"name": schema.pop("name"), "version": __version__, **schema}
    return json.dumps(versioned, indent=2, ensure_ascii=False) + "\n"


def resource_type(urn: str, given: str = "") -> str:
    """`vpsbackup:index:Backup` from a request (its `type`, else its URN)."""
    if given:
        return given
    qualified = urn.split("::")[-2] if urn.count("::") >= 3 else ""
    return qualified.rsplit("$", 1)[-1]


#: How long one status message may take to reach the engine (seconds); it is
#: sent from the thread that waits, so a wedged engine must not hold the wait.
LOG_TIMEOUT = 5.0


class EngineLog:
    """The engine's `Log` service (at the address the engine starts the plugin with),
    for messages about one resource; stderr when it cannot be reached.

    The engine hides a resource plugin's stdout and stderr (logged at debug
    level, shown only if the plugin exits prematurely:
    `sdk/go/common/resource/plugin/plugin.go` in pulumi/pulumi), so the core's
    progress and warnings, which the dynamic provider host writes to stderr,
    come here, about the call's resource (its URN), as
    `pulumi.log.info(msg, resource, ephemeral=True)` sends them from a program.
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._channel = grpc.insecure_channel(address) if address else None
        self._stub = engine_pb2_grpc.EngineStub(self._channel) if self._channel else None
        self._lock = threading.Lock()
        self.failed: str | None = None if address else "no engine address"

    def status(self, urn: str, message: str) -> None:
        """`message` on the resource's row while it is in progress (ephemeral)."""
        self._log(urn, message, engine_pb2.INFO, ephemeral=True)

    def warning(self, urn: str, message: str) -> None:
        """A warning about the resource, listed with its diagnostics."""
        self._log(urn, message, engine_pb2.WARNING, ephemeral=False)

    def message(self, urn: str, message: str, warning: bool) -> None:
        """The sink of `provider.core.base.messages_to`: the core's words in the schema's."""
        message = native_text(message)
        if warning:
            self.warning(urn, message)
        else:
            self.status(urn, message)

    def _log(self, urn: str, message: str, severity: Any, *, ephemeral: bool) -> None:
        stub = self._stub if self.failed is None else None
        if stub is not None:
            request = engine_pb2.LogRequest(
                severity=severity, message=message, urn=urn, ephemeral=ephemeral
            )
            try:
                stub.Log(request, timeout=LOG_TIMEOUT)
                return
            except grpc.RpcError as exc:
                with self._lock:
                    # Once unreachable, stay on stderr: no wait per message.
                    self.failed = self.failed or f"{exc.code().name}"
        kind = "warning: " if severity == engine_pb2.WARNING else ""
        sys.stderr.write(f"vpsbackup: {kind}{message}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


async def abort_init_failed(
    context: Any, made: tuple[str, dict[str, Any]], message: str, secrets: set[str]
) -> None:
    """Fail a Create the way the engine keeps what it made: status details holding an
    `ErrorResourceInitFailed` with its id and properties (the engine records the
    resource with its init error, and the next update carries on)."""
    detail = provider_pb2.ErrorResourceInitFailed(
        id=made[0], properties=wire.to_struct(made[1], secrets), reasons=[message]
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=message)
    status.details.append(packed)
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    await context.abort(grpc.StatusCode.UNKNOWN, message)


#: What the plugin accepts from the engine, the same in Handshake and Configure (the
#: engine requires it): secrets as secret values (`wire` unwraps them and wraps the
#: outputs again); no resource references, output values or byte strings (no input
#: takes a resource, and none is computed from another's outputs in the plugin).
PROTOCOL = {
    "accept_secrets": True,
    "accept_resources": False,
    "accept_outputs": False,
    "supports_autonaming_configuration": False,
    "accepts_byte_string": False,
}


_KINDS = {
    # (was there, is there, replaces) -> what the CLI shows for the property
    (False, True, False): provider_pb2.PropertyDiff.ADD,
    (False, True, True): provider_pb2.PropertyDiff.ADD_REPLACE,
    (True, False, False): provider_pb2.PropertyDiff.DELETE,
    (True, False, True): provider_pb2.PropertyDiff.DELETE_REPLACE,
    (True, True, False): provider_pb2.PropertyDiff.UPDATE,
    (True, True, True): provider_pb2.PropertyDiff.UPDATE_REPLACE,
}


def detailed_diff(
    olds: dict[str, Any], news: dict[str, Any], changed: list[str], replaces: list[str]
) -> dict[str, Any]:
    """`DiffResponse.detailedDiff`: each changed input, added, deleted or updated, and
    whether it replaces, between the old and new inputs (`inputDiff`), as the CLI
    shows it under `pulumi preview --diff`."""
    out = {}
    for name in changed:
        was = olds.get(name) is not None
        now = news.get(name) is not None
        kind = _KINDS[(was or not now, now, name in replaces)]
        out[name] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)
    return out


class Servicer(provider_pb2_grpc.ResourceProviderServicer):
    """The engine's ResourceProvider service over `NativeProvider`."""

    def __init__(
        self, provider: NativeProvider | None = None, engine: EngineLog | None = None
    ) -> None:
        self.provider = provider or NativeProvider()
        self.engine = engine
        self._pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="vpsbackup")

    async def _run(
        self, context: Any, call: Callable[[], T], urn: str = "", secrets: set[str] | None = None
    ) -> T:
        """`call()` in a thread; one of our errors aborts the RPC with its message.

        With `urn`, the call's progress and warnings go to the engine about
        that resource (`EngineLog`). A create cut short by Cancel after it made
        something fails with what it made (`abort_init_failed`), its `secrets`
        wrapped as in a Create's answer.
        """
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._reporting(urn, call))
        except WaitCancelledError as exc:
            if exc.made is None or not exc.made[0]:  # only a create hands on what it made
                await context.abort(grpc.StatusCode.UNKNOWN, error_message(exc))
            else:
                await abort_init_failed(context, exc.made, error_message(exc), secrets or set())
            raise
        except Exception as exc:  # every failure must reach the engine, as its message
            await context.abort(grpc.StatusCode.UNKNOWN, error_message(exc))
            raise  # abort raises; this is for type checkers

    def _reporting(self, urn: str, call: Callable[[], T]) -> Callable[[], T]:
        """`call`, its progress and warnings sent to the engine about the resource `urn`."""
        engine = self.engine
        if not urn or engine is None:
            return call

        def reporting() -> T:
            with messages_to(lambda message, warning: engine.message(urn, message, warning)):
                return call()

        return reporting

    async def _unimplemented(self, context: Any, what: str) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{what} is not implemented")

    # ---- plugin ---------------------------------------------------------------
    async def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=__version__)

    async def GetSchema(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetSchemaResponse(schema=schema_text())

    async def Cancel(self, request: Any, context: Any) -> Any:
        # The engine sends it at Ctrl-C and before it closes the plugin: waits in
        # flight stop at once, a create cut short hands its backup to the engine.
        self.provider.cancel()
        return empty_pb2.Empty()

    async def CheckConfig(self, request: Any, context: Any) -> Any:
        olds, _ = wire.from_struct(request.olds)
        news, secrets = wire.from_struct(request.news)
        failures = config_failures(news, request.urn)
        news[IDENTITY_KEY] = config_identity(olds)
        # The token is secret in state whether or not the program said so.
        if "apiToken" in news:
            secrets.add("apiToken")
        return provider_pb2.CheckResponse(
            inputs=wire.to_struct(news, secrets),
            failures=[
                provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in failures
            ],
        )

    async def Handshake(self, request: Any, context: Any) -> Any:
        """What this plugin accepts, before Configure (engines since 3.138 ask; older
        ones read the same from ConfigureResponse). The engine then takes preview
        support for granted: Create and Update with `preview` touch nothing."""
        if request.engine_address and (self.engine is None or self.engine.address is None):
            # Started without the engine's address (attached to, for debugging): it is here.
            self.engine = EngineLog(request.engine_address)
        return provider_pb2.ProviderHandshakeResponse(**PROTOCOL)

    async def Configure(self, request: Any, context: Any) -> Any:
        args, _ = wire.from_struct(request.args)
        variables = dict(request.variables)
        urn = request.urn
        await self._run(context, lambda: self.provider.configure(args, variables, urn), urn)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=PROTOCOL["accept_secrets"],
            supportsPreview=True,
            acceptResources=PROTOCOL["accept_resources"],
            acceptOutputs=PROTOCOL["accept_outputs"],
        )

    async def DiffConfig(self, request: Any, context: Any) -> Any:
        """Every changed setting updates the provider in place, each shown on its own
        (`pulumi preview --diff`: ``~ apiUrl: "..." => "..."``, a token as [secret])."""
        old_inputs, _ = wire.from_struct(request.old_inputs)
        olds = old_inputs or wire.from_struct(request.olds)[0]
        news, _ = wire.from_struct(request.news)
        changed = config_changes(olds, news)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=[],
            diffs=changed,
            deleteBeforeReplace=False,
            detailedDiff=detailed_diff(olds, news, changed, []),
            hasDetailedDiff=True,
        )

    # Not served: the engine then does without.

    async def Parameterize(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context, "Parameterize")

    async def GetMapping(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetMappingResponse(provider="", data=b"")

    async def GetMappings(self, request: Any, context: Any) -> Any:
        return provider_pb2.GetMappingsResponse(providers=[])

    async def Attach(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context, "Attach")

    async def Construct(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context, "Construct (no components)")

    async def Call(self, request: Any, context: Any) -> Any:
        return await self._unimplemented(context, "Call (no methods)")

    # ---- resources ------------------------------------------------------------
    async def Check(self, request: Any, context: Any) -> Any:
        olds, _ = wire.from_struct(request.olds)
        news, secrets = wire.from_struct(request.news)
        type_ = resource_type(request.urn, request.type)
        checked = await self._run(
            context, lambda: self.provider.check(type_, request.urn, olds, news), request.urn
        )
        return provider_pb2.CheckResponse(
            inputs=wire.to_struct(checked.inputs, secrets),
            failures=[
                provider_pb2.CheckFailure(property=f.property, reason=native_text(f.reason))
                for f in checked.failures
            ],
        )

    async def Diff(self, request: Any, context: Any) -> Any:
        olds, _ = wire.from_struct(request.olds)
        news, _ = wire.from_struct(request.news)
        type_ = resource_type(request.urn, request.type)
        diffed = await self._run(
            context, lambda: self.provider.diff(type_, request.id, olds, news), request.urn
        )
        old_inputs, _ = wire.from_struct(request.old_inputs)
        # A change the core acts on without a changed input (a rotation's pending
        # prune) is left to the engine's own display.
        detailed = not diffed.changes or bool(diffed.changed)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if diffed.changes
            else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=diffed.replaces,
            diffs=diffed.changed,
            deleteBeforeReplace=False,
            detailedDiff=detailed_diff(old_inputs or olds, news, diffed.changed, diffed.replaces)
            if detailed
            else {},
            hasDetailedDiff=detailed,
        )

    async def Create(self, request: Any, context: Any) -> Any:
        inputs, secrets = wire.from_struct(request.properties)
        type_ = resource_type(request.urn, request.type)
        made = await self._run(
            context,
            lambda: self.provider.create(type_, inputs, request.timeout, request.preview),
            request.urn,
            secrets,
        )
        return provider_pb2.CreateResponse(
            id=made.id, properties=wire.to_struct(made.outputs, secrets)
        )

    async def Read(self, request: Any, context: Any) -> Any:
        state, secrets = wire.from_struct(request.properties)
        inputs, input_secrets = wire.from_struct(request.inputs)
        type_ = resource_type(request.urn, request.type)
        found = await self._run(
            context, lambda: self.provider.read(type_, request.id, state, inputs), request.urn
        )
        if found is None:
            return provider_pb2.ReadResponse(id="")  # proven gone: the engine drops it
        return provider_pb2.ReadResponse(
            id=found.id,
            properties=wire.to_struct(found.outputs, secrets | input_secrets),
            inputs=wire.to_struct(found.inputs or {}, secrets | input_secrets),
        )

    async def Update(self, request: Any, context: Any) -> Any:
        olds, _ = wire.from_struct(request.olds)
        news, secrets = wire.from_struct(request.news)
        type_ = resource_type(request.urn, request.type)
        outs = await self._run(
            context,
            lambda: self.provider.update(
                type_, request.id, olds, news, request.timeout, request.preview
            ),
            request.urn,
        )
        return provider_pb2.UpdateResponse(properties=wire.to_struct(outs, secrets))

    async def Delete(self, request: Any, context: Any) -> Any:
        state, _ = wire.from_struct(request.properties)
        type_ = resource_type(request.urn, request.type)
        await self._run(
            context,
            lambda: self.provider.delete(type_, request.id, state, request.timeout),
            request.urn,
        )
        return empty_pb2.Empty()

    # ---- functions ------------------------------------------------------------
    async def Invoke(self, request: Any, context: Any) -> Any:
        args, _ = wire.from_struct(request.args)
        result = await self._run(context, lambda: self.provider.invoke(request.tok, args))
        return provider_pb2.InvokeResponse(**{"return": wire.to_struct(result)})


#: How often the plugin looks whether its engine is still there (seconds).
WATCH_INTERVAL = 0.5
#: How long the engine's gRPC server may stay unreachable, once reached, before
#: the plugin takes the engine for gone (seconds).
ENGINE_GRACE = 3.0


def engine_address(args: list[str]) -> str | None:
    """The engine's address among the plugin's arguments: the engine passes its
    logging and tracing flags first (`--logtostderr`, `-v=9`, `--tracing URL`),
    then its address (`127.0.0.1:PORT`)."""
    positional = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--tracing":
            skip = True
        elif not arg.startswith("-"):
            positional.append(arg)
    return positional[0] if positional and ":" in positional[0] else None


async def engine_gone(parent: int, address: str | None = None) -> str:
    """Return (why) once the engine that started this plugin is gone.

    Two signs, either enough: the parent process exited (this process is
    re-parented, so `os.getppid()` changes: the engine was killed, even with
    SIGKILL, which leaves it no chance to stop its plugins), or the engine's
    own gRPC server, reached once, stays unreachable for `ENGINE_GRACE`
    seconds (the engine died while a wrapper process between it and this
    plugin lives on). An address that is never reached (a test's dummy) is
    never taken for a lost engine.
    """
    channel = grpc.aio.insecure_channel(address) if address else None
    loop = asyncio.get_running_loop()
    reached = False
    unreachable_since: float | None = None
    try:
        while True:
            if os.getppid() != parent:
                return f"its parent process {parent} exited"
            if channel is not None:
                state = channel.get_state(try_to_connect=True)
                if state == grpc.ChannelConnectivity.READY:
                    reached, unreachable_since = True, None
                elif reached:
                    unreachable_since = unreachable_since or loop.time()
                    if (
                        state == grpc.ChannelConnectivity.TRANSIENT_FAILURE
                        and loop.time() - unreachable_since >= ENGINE_GRACE
                    ):
                        return f"the engine at {address} stopped answering"
            await asyncio.sleep(WATCH_INTERVAL)
    finally:
        if channel is not None:
            await channel.close()


async def serve(
    ready: Callable[[int], Awaitable[None] | None] | None = None,
    address: str = "127.0.0.1:0",
    *,
    watch: Callable[[], Awaitable[str]] | None = None,
    engine: str | None = None,
) -> str | None:
    """Serve until terminated; `ready(port)` (default: print it) once listening.

    With `watch`, serving also ends when it returns (the engine is gone): the
    server stops (calls in flight are cancelled: no one is left to read their
    answer) and its reason is returned. `engine` is the engine's address,
    where progress messages go (`EngineLog`).
    """
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ]
    )
    log = EngineLog(engine)
    try:
        return await _serve(server, ready, address, watch, log)
    finally:
        log.close()


async def _serve(
    server: Any,
    ready: Callable[[int], Awaitable[None] | None] | None,
    address: str,
    watch: Callable[[], Awaitable[str]] | None,
    log: EngineLog,
) -> str | None:
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Servicer(engine=log), server)
    port = server.add_insecure_port(address)
    await server.start()
    if ready is None:
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
    else:
        result = ready(port)
        if result is not None:
            await result
    if watch is None:
        await server.wait_for_termination()
        return None
    terminated = asyncio.ensure_future(server.wait_for_termination())
    gone = asyncio.ensure_future(watch())
    await asyncio.wait({terminated, gone}, return_when=asyncio.FIRST_COMPLETED)
    if not gone.done():
        gone.cancel()
        return None
    await server.stop(grace=1.0)
    terminated.cancel()
    return gone.result()


def main(argv: list[str] | None = None) -> int:
    """The console script. Its arguments are the engine's: log flags, then its address.

    The plugin serves until the engine stops it, or until the engine is gone
    (`engine_gone`): a CLI killed with SIGKILL cannot stop its plugins, and a
    plugin left behind would run (and hold its threads' API calls) forever.
    """
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(
            "pulumi-resource-vpsbackup: the vpsbackup provider plugin; the Pulumi engine "
            "starts it (install it with `pulumi plugin install resource vpsbackup <version> "
            "--file <archive>`, or name its directory in Pulumi.yaml `plugins:`).\n"
        )
        return 0
    if args and args[0] == "--schema":
        sys.stdout.write(schema_text())
        return 0
    if args and args[0] == "--version":
        sys.stdout.write(json.dumps({"name": "vpsbackup", "version": __version__}) + "\n")
        return 0
    parent = os.getppid()
    engine = engine_address(args)
    try:
        why = asyncio.run(serve(watch=lambda: engine_gone(parent, engine), engine=engine))
    except KeyboardInterrupt:
        return 0
    if why is not None:
        sys.stderr.write(f"pulumi-resource-vpsbackup: exiting: the engine is gone ({why})\n")
        sys.stderr.flush()
        # Threads still blocked in an API call or a wait would keep the
        # interpreter alive at exit: no one is left to read their answers.
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
