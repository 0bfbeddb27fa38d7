"""An engine-faithful harness: run whole Pulumi programs without the Pulumi CLI.

What tests/programs and tests/reliability run programs with (the fast mirror of
tests/cli), and the state benchmark and the demo on a machine without the CLI.

The program runs in-process with the real SDK runtime (``pulumi.runtime.run_in_stack``
with a resource monitor object in place of the CLI's gRPC monitor, the way
``pulumi.runtime.set_mocks`` wires one in), each run in a fresh thread with a fresh
``contextvars.Context`` so SDK settings, config and the root stack never leak between
runs. Every dynamic resource (type ``pulumi-python:dynamic...``) goes to ONE real
provider host (:class:`vpsbackup_dev.host.ProviderHost`) per operation, configured once
with the stack config; other resources echo their inputs.

Engine semantics reproduced, as pulumi/pulumi v3.276.0 implements them in
``pkg/resource/deploy/step_generator.go`` (check, diff, replace, deletes),
``pkg/resource/deploy/step.go`` (the steps; refresh's and ``get``'s Read) and
``sdk/go/common/resource/plugin/provider_plugin.go`` (marshalling, secrets):

* ``up``: per registered resource Check(olds=stored inputs, news=program inputs), then
  Create if new, else Diff(olds=stored OUTPUTS, news=checked inputs): no changes ->
  same, changes without replaces -> Update, changes with replaces -> replace (Check
  again with no olds, then create-before-delete with the old one deleted after the
  program finished, or delete-before-replace when ``DiffResult.delete_before_replace``
  or the ``delete_before_replace`` option says so; the option overrides the provider).
  ``DIFF_UNKNOWN`` falls back to comparing inputs (``__provider`` included), as the
  engine does. ``replace_on_changes``, ``ignore_changes`` (top-level keys),
  ``protect`` and ``retain_on_delete`` are honoured. After the program: delete what it
  no longer declares (and replaced resources), dependents first. State is saved after
  every step. The first failing step stops the deployment: state keeps what succeeded,
  later registrations are refused, deferred deletes do not run, ``EngineError`` is
  raised (``.urn``, ``.message``, ``.result`` with the partial steps).
* ``preview``: Check (unknowns allowed) and Diff only; never Create/Update/Delete;
  state is not written. As the engine does for a provider without preview support, a
  new or updated resource's outputs are its checked inputs; every other output, and
  the id of a new resource, is unknown to the program and in stack outputs.
* ``refresh``: Read(properties=stored outputs, inputs=stored inputs); no id -> the
  resource is removed; outputs replaced, inputs replaced when the provider returns them.
* ``destroy``: Delete everything, dependents first, with the ``__provider`` stored in
  state, then empty the state.
* Secrets: the program's secrets (``__provider`` by default) are stored as secrets;
  they reach the provider host as plain values (it does not accept secrets), and the
  secret bit is copied back onto its results (``annotateSecrets``).

Resources without a provider (the stack, components, non-dynamic custom resources)
echo their inputs (custom ones get the id ``<name>-id``) and are diffed by their
inputs (changed -> update), as the step generator does. Steps, counts and the summary
include the stack and components, as the CLI's do. ``ResourceOptions(id=...)`` issues
one Read with the inputs (op ``read``; never deleted); ``import_`` issues the Read the
engine would, with only the id, which the dynamic host cannot serve (pulumi#16175).

Not reproduced: parallel steps (by default steps run one at a time, in registration
order, which for independent resources varies between runs as with the engine;
``parallel=N`` lets N run at once), dependents of a delete-before-replace resource
being replaced too, aliases, targets, ``--continue-on-error``, transforms/hooks,
invokes (``Mocks.call`` raises), refresh of resources pending deletion.

The program runs with its directory as cwd and first on ``sys.path``, ``env`` applied
to ``os.environ`` (and to the provider host); modules imported from the program's
directory are dropped after each run.

Example::

    eng = Engine(tmp_path / "state.json", config={"vpsbackup:apiToken": "t"},
                 secret_keys={"vpsbackup:apiToken"}, program=EXAMPLES / "quickstart")
    res = eng.up()
    assert res.counts == {"create": 3}        # the stack + 2 resources
    assert res.summary == ["+ 3 created"]
    assert eng.preview().summary == ["3 unchanged"]
    eng.config["vpsbackup:retention"] = "7"
    assert eng.preview().ops(dynamic_only=True) == [("update", "backup"), ...]
    eng.destroy()
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import engine_pb2, resource_pb2
from pulumi.runtime.settings import Settings
from pulumi.runtime.stack import run_in_stack

from vpsbackup_dev.host import (
    ProviderError,
    ProviderHost,
    from_struct,
    strip_secrets,
    to_struct,
)

__all__ = [
    "DYNAMIC_PREFIX",
    "STACK_TYPE",
    "Engine",
    "EngineError",
    "Plan",
    "ResourceState",
    "Result",
    "Step",
    "annotate_secrets",
    "contains_unknowns",
]

DYNAMIC_PREFIX = "pulumi-python:dynamic"
STACK_TYPE = "pulumi:pulumi:Stack"
STATE_VERSION = 1

# Op names; summary order and wording follow the CLI.
_SUMMARY = [
    ("create", "+", "to create", "created"),
    ("update", "~", "to update", "updated"),
    ("replace", "+-", "to replace", "replaced"),
    ("delete", "-", "to delete", "deleted"),
]


# -- values ------------------------------------------------------------------------


def _is_secret(v: Any) -> bool:
    return bool(rpc.is_rpc_secret(v))


def contains_secrets(v: Any) -> bool:
    if _is_secret(v):
        return True
    if isinstance(v, dict):
        return any(contains_secrets(x) for x in v.values())
    if isinstance(v, list):
        return any(contains_secrets(x) for x in v)
    return False


def contains_unknowns(v: Any) -> bool:
    if isinstance(v, pulumi.output.Unknown) or v == rpc.UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(contains_unknowns(x) for x in v.values())
    if isinstance(v, list):
        return any(contains_unknowns(x) for x in v)
    return False


def annotate_secrets(outs: dict[str, Any], ins: Mapping[str, Any]) -> dict[str, Any]:
    """Copy secretness from ``ins`` onto same-named ``outs`` (the engine's annotateSecrets)."""
    for key, in_value in ins.items():
        if key not in outs:
            continue
        out_value = outs[key]
        if (
            isinstance(out_value, dict)
            and not _is_secret(out_value)
            and isinstance(in_value, dict)
            and not _is_secret(in_value)
        ):
            annotate_secrets(out_value, in_value)
        elif not _is_secret(out_value) and contains_secrets(in_value):
            outs[key] = rpc.wrap_rpc_secret(out_value)
    return outs


def _plain(v: Any) -> Any:
    """JSON-comparable form: secrets stripped, Unknown as the sentinel."""
    v = strip_secrets(v)
    if isinstance(v, pulumi.output.Unknown):
        return rpc.UNKNOWN
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def format_exception(exc: BaseException) -> str:
    """A traceback without 3.11's caret anchors.

    CPython 3.11's ``traceback`` calls ``ast.parse`` to place carets, and the ast module's
    recursion counter is shared between threads (gh-106905): formatting tracebacks in
    several threads at once (the SDK does it in its event loop, we in executor threads)
    corrupts it, and a later ``ast.parse`` fails with "AST constructor recursion depth
    mismatch". So the harness formats frames itself.
    """
    lines = ["Traceback (most recent call last):\n"]
    for frame in traceback.extract_tb(exc.__traceback__):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n')
        if frame.line:
            lines.append(f"    {frame.line.strip()}\n")
    lines.append(f"{type(exc).__name__}: {exc}\n")
    return "".join(lines)


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(olds) | set(news))
    return [k for k in keys if _plain(olds.get(k)) != _plain(news.get(k))]


# -- state -------------------------------------------------------------------------


@dataclass
class ResourceState:
    urn: str
    type: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    delete_before_replace: bool | None = None
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    deleted_with: str = ""
    external: bool = False  # read with Resource.get: never deleted by the engine
    delete: bool = False  # pending deletion (a replaced resource whose delete has not run)

    @property
    def name(self) -> str:
        return self.urn.split("::")[-1]

    @property
    def dynamic(self) -> bool:
        return self.custom and self.type.startswith(DYNAMIC_PREFIX)

    def all_dependencies(self) -> set[str]:
        deps = set(self.dependencies)
        for urns in self.property_dependencies.values():
            deps.update(urns)
        if self.parent:
            deps.add(self.parent)
        if self.deleted_with:
            deps.add(self.deleted_with)
        return deps

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceState:
        return cls(**data)


@dataclass
class Step:
    op: str  # create update replace delete same read refresh refresh-delete delete-replaced
    urn: str
    type: str
    detail: str = ""  # e.g. "create-before-delete" / "delete-before-replace"

    @property
    def name(self) -> str:
        return self.urn.split("::")[-1]


@dataclass
class Result:
    """What one operation did (the CLI's step list and summary)."""

    operation: str
    preview: bool
    steps: list[Step] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # provider RPCs (method, urn)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs, secrets unwrapped
    secret_outputs: set[str] = field(default_factory=set)
    diagnostics: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)
    host_output: str = ""

    @property
    def counts(self) -> dict[str, int]:
        """Steps per summary op: refresh counts as update, refresh-delete as delete;
        delete-replaced (the tail of a replace) is not counted, as in the CLI."""
        out: dict[str, int] = {}
        for s in self.steps:
            if s.op == "delete-replaced":
                continue
            op = {"refresh": "update", "refresh-delete": "delete"}.get(s.op, s.op)
            out[op] = out.get(op, 0) + 1
        return out

    @property
    def summary(self) -> list[str]:
        """The CLI's ``Resources:`` lines, e.g. ``["+ 1 to create", "2 unchanged"]``.

        Preview wording (``to create``) for previews, past tense (``created``) otherwise.
        Counts include the stack and component resources, as the CLI's do.
        """
        counts = self.counts
        lines = []
        for op, sign, future, past in _SUMMARY:
            if counts.get(op):
                lines.append(f"{sign} {counts[op]} {future if self.preview else past}")
        if counts.get("same"):
            lines.append(f"{counts['same']} unchanged")
        return lines

    def ops(self, *, dynamic_only: bool = False) -> list[tuple[str, str]]:
        """``[(op, resource name)]`` in step order; ``dynamic_only`` keeps dynamic resources."""
        return [
            (s.op, s.name)
            for s in self.steps
            if not dynamic_only or s.type.startswith(DYNAMIC_PREFIX)
        ]

    def step(self, name_or_urn: str) -> Step | None:
        """The first step for a resource (by name or URN)."""
        for s in self.steps:
            if name_or_urn in (s.urn, s.name):
                return s
        return None

    def op_of(self, name_or_urn: str) -> str | None:
        s = self.step(name_or_urn)
        return s.op if s else None

    def provider_calls(self, method: str) -> list[str]:
        """Names of the resources a provider method was called for, in order."""
        return [u.split("::")[-1] for m, u in self.calls if m == method]


Plan = Result


class EngineError(Exception):
    """A failed operation: the failing resource, the provider's message, the partial result."""

    def __init__(
        self,
        message: str,
        *,
        urn: str | None,
        result: Result,
        details: str = "",
        failures: list[tuple[str, str]] | None = None,
    ) -> None:
        self.urn = urn
        self.message = message
        self.result = result
        self.details = details or message
        self.failures = failures or []
        super().__init__(f"{urn or 'program'}: {message}")


class _StepFailed(Exception):
    def __init__(
        self,
        urn: str | None,
        message: str,
        details: str = "",
        failures: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(f"{urn}: {message}")
        self.urn = urn
        self.message = message
        self.details = details or message
        self.failures = failures or []


# -- the deployment: one operation's engine state ------------------------------------


class _NoCalls(Mocks):
    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        raise NotImplementedError(f"invoke {args.token} is not supported by the harness")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        raise NotImplementedError("new_resource is not used by the harness")


class _LogEngine(MockEngine):
    def __init__(self, result: Result) -> None:
        super().__init__(None)
        self._result = result

    def Log(self, request: Any) -> None:
        names = {
            engine_pb2.DEBUG: "debug",
            engine_pb2.INFO: "info",
            engine_pb2.WARNING: "warning",
            engine_pb2.ERROR: "error",
        }
        self._result.diagnostics.append((names.get(request.severity, "info"), request.message))


class _Deployment:
    """The engine side of one operation: steps, provider host, state bookkeeping."""

    def __init__(self, engine: Engine, operation: str, preview: bool) -> None:
        self.engine = engine
        self.preview = preview
        self.result = Result(operation=operation, preview=preview)
        self.old: list[ResourceState] = engine._load()
        self.new: list[ResourceState] = [r for r in self.old]  # saved state, updated per step
        self.registered: set[str] = set()
        self.pending_deletes: list[ResourceState] = []
        self.failure: _StepFailed | None = None
        self.stack_outputs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._steps = threading.Semaphore(max(1, engine.parallel))
        self._host: ProviderHost | None = None
        self._host_lock = threading.Lock()

    # provider host, started on first use and configured once
    def host(self) -> ProviderHost:
        with self._host_lock:
            if self._host is None:
                h = ProviderHost(env=self.engine.env, cwd=self.engine._host_cwd())
                h.start()
                self._host = h
                self.result.calls.append(("Configure", ""))
                h.configure(self.engine.config, secret_keys=self.engine.secret_keys)
            return self._host

    def close(self) -> None:
        with self._host_lock:
            if self._host is not None:
                # Closed first: its stderr is read by threads, and only once the
                # host has stopped is all it printed read (a leak check of
                # `host_output` must not pass on a part of it).
                self._host.close()
                self.result.host_output = self._host.settled_output()
                self._host = None

    def call(self, method: str, urn: str, fn: Callable[[], Any]) -> Any:
        with self._lock:
            self.result.calls.append((method, urn))
        return fn()

    def step(self, op: str, res: ResourceState, detail: str = "") -> None:
        with self._lock:
            self.result.steps.append(Step(op, res.urn, res.type, detail))

    # state bookkeeping (saved after each step unless previewing)
    def _index(self, urn: str) -> int | None:
        for i, r in enumerate(self.new):
            if r.urn == urn and not r.delete:
                return i
        return None

    def put(self, res: ResourceState) -> None:
        with self._lock:
            i = self._index(res.urn)
            if i is not None:
                self.new[i] = res
            else:
                # A replacement goes right after the old one it replaces, keeping the
                # state in dependency order; a new resource goes at the end.
                pending = [k for k, r in enumerate(self.new) if r.urn == res.urn]
                self.new.insert(pending[-1] + 1 if pending else len(self.new), res)
            self.save()

    def remove(self, res: ResourceState) -> None:
        with self._lock:
            self.new = [r for r in self.new if r is not res]
            self.save()

    def mark_pending_delete(self, old: ResourceState) -> None:
        with self._lock:
            old.delete = True
            self.save()

    def save(self) -> None:
        if not self.preview:
            self.engine._save(self.new)

    def old_live(self, urn: str) -> ResourceState | None:
        for r in self.old:
            if r.urn == urn and not r.delete:
                return r
        return None

    # -- provider wrappers -----------------------------------------------------------

    def fail(self, urn: str | None, err: BaseException) -> _StepFailed:
        if isinstance(err, _StepFailed):
            failed = err
        elif isinstance(err, ProviderError):
            failed = _StepFailed(urn, err.message, err.details())
        else:
            failed = _StepFailed(urn, f"{type(err).__name__}: {err}", format_exception(err))
        with self._lock:
            if self.failure is None:
                self.failure = failed
        return failed

    def delete_resource(self, res: ResourceState, op: str = "delete") -> None:
        """Delete one resource (provider call unless retained/external/non-dynamic)."""
        if res.protect and not res.delete:
            raise _StepFailed(
                res.urn,
                f"unable to delete resource {res.urn!r} as it is currently marked for protection",
            )
        if not self.preview and res.dynamic and not res.retain_on_delete and not res.external:
            host = self.host()
            self.call(
                "Delete",
                res.urn,
                lambda: host.delete(res.id, res.urn, res.outputs, old_inputs=res.inputs),
            )
        self.step(op, res)
        if not self.preview:
            self.remove(res)

    # -- RegisterResource --------------------------------------------------------------

    def register(self, req: Any) -> tuple[str, str, dict[str, Any]]:
        """Handle one RegisterResourceRequest; returns (urn, id, outputs for the program)."""
        urn = self.engine._make_urn(req.type, req.name, req.parent)
        if self.failure is not None:
            raise _StepFailed(urn, "deployment cancelled after an earlier failure")
        with self._steps:
            try:
                return self._register(urn, req)
            except BaseException as exc:
                raise self.fail(urn, exc) from exc

    def _goal(self, urn: str, req: Any, inputs: dict[str, Any]) -> ResourceState:
        return ResourceState(
            urn=urn,
            type=req.type,
            custom=bool(req.custom),
            inputs=inputs,
            parent=req.parent,
            dependencies=list(req.dependencies),
            property_dependencies={k: list(v.urns) for k, v in req.propertyDependencies.items()},
            delete_before_replace=(
                bool(req.deleteBeforeReplace) if req.deleteBeforeReplaceDefined else None
            ),
            protect=bool(req.protect),
            retain_on_delete=bool(req.retainOnDelete),
            ignore_changes=list(req.ignoreChanges),
            replace_on_changes=list(req.replaceOnChanges),
            deleted_with=req.deletedWith,
        )

    def _register(self, urn: str, req: Any) -> tuple[str, str, dict[str, Any]]:
        inputs = from_struct(req.object, keep_unknowns=True)
        goal = self._goal(urn, req, inputs)
        with self._lock:
            if urn in self.registered:
                raise _StepFailed(urn, f"Duplicate resource URN '{urn}'")
            self.registered.add(urn)
        old = self.old_live(urn)

        if req.importId and old is None:
            return self._import(goal, req.importId)
        if not goal.custom or not goal.dynamic:
            return self._register_plain(goal, old)

        host = self.host()
        news = dict(inputs)
        if old is not None:
            for key in goal.ignore_changes:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        olds = old.inputs if old is not None else {}
        checked = self._check(host, urn, olds, news)

        if old is None:
            return self._create(host, goal, checked, op="create")

        diff = self.call(
            "Diff",
            urn,
            lambda: host.diff(old.id, urn, old.outputs, checked, old_inputs=old.inputs),
        )
        changes = diff.changes
        if changes is None:  # DIFF_UNKNOWN: the engine compares the inputs itself
            changes = bool(_changed_keys(old.inputs, checked))
        replaces = list(diff.replaces)
        if changes and goal.replace_on_changes:
            wanted = set(goal.replace_on_changes)
            replaces += [
                k for k in _changed_keys(old.inputs, checked) if k in wanted or "*" in wanted
            ]
        if not changes:
            return self._same(goal, old, checked)
        if not replaces:
            return self._update(host, goal, old, checked)

        if goal.protect and old.protect:
            raise _StepFailed(
                urn, f"unable to replace resource {urn!r} as it is currently marked for protection"
            )
        # A replacement recomputes defaults: Check again with no olds.
        checked = self._check(host, urn, {}, news)
        dbr = diff.delete_before_replace
        if goal.delete_before_replace is not None:
            dbr = goal.delete_before_replace
        if dbr:
            if not self.preview:
                self.call(
                    "Delete",
                    urn,
                    lambda: host.delete(old.id, urn, old.outputs, old_inputs=old.inputs),
                )
                self.remove(old)
            return self._create(host, goal, checked, op="replace", detail="delete-before-replace")
        if not self.preview:
            self.mark_pending_delete(old)
            self.pending_deletes.append(old)
        return self._create(host, goal, checked, op="replace", detail="create-before-delete")

    def _check(
        self, host: ProviderHost, urn: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> dict[str, Any]:
        checked, failures = self.call("Check", urn, lambda: host.check(urn, olds, news))
        if failures:
            text = "; ".join(f"{p}: {r}" if p else r for p, r in failures)
            raise _StepFailed(urn, f"check failed: {text}", failures=failures)
        return annotate_secrets(checked, news)

    def _create(
        self,
        host: ProviderHost,
        goal: ResourceState,
        checked: dict[str, Any],
        *,
        op: str,
        detail: str = "",
    ) -> tuple[str, str, dict[str, Any]]:
        goal.inputs = checked
        if self.preview:
            # No preview support in the dynamic host: the engine returns the inputs.
            self.step(op, goal, detail)
            return goal.urn, "", dict(checked)
        id_, outs = self.call("Create", goal.urn, lambda: host.create(goal.urn, checked))
        goal.id = id_
        goal.outputs = annotate_secrets(outs, checked)
        self.put(goal)
        self.step(op, goal, detail)
        return goal.urn, id_, goal.outputs

    def _update(
        self, host: ProviderHost, goal: ResourceState, old: ResourceState, checked: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        goal.inputs = checked
        goal.id = old.id
        if self.preview:
            self.step("update", goal)
            return goal.urn, old.id, dict(checked)
        outs = self.call(
            "Update",
            goal.urn,
            lambda: host.update(old.id, goal.urn, old.outputs, checked, old_inputs=old.inputs),
        )
        goal.outputs = annotate_secrets(outs, checked)
        self.put(goal)
        self.step("update", goal)
        return goal.urn, goal.id, goal.outputs

    def _same(
        self, goal: ResourceState, old: ResourceState, checked: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        # A same step records the new goal (inputs, options) with the old id and outputs.
        goal.inputs = checked
        goal.id = old.id
        goal.outputs = old.outputs
        if not self.preview:
            self.put(goal)
        self.step("same", goal)
        return goal.urn, old.id, old.outputs

    def _register_plain(
        self, goal: ResourceState, old: ResourceState | None
    ) -> tuple[str, str, dict[str, Any]]:
        """Stack, components and non-dynamic custom resources: outputs echo inputs."""
        if goal.custom:
            goal.outputs = dict(goal.inputs)
            goal.id = old.id if old is not None else f"{goal.name}-id"
        elif old is not None:
            goal.outputs = old.outputs  # replaced by RegisterResourceOutputs later
        if old is None:
            op = "create"
        elif _changed_keys(old.inputs, goal.inputs):
            # Without a provider the step generator diffs the inputs: components too.
            op = "update"
        else:
            op = "same"
        if not self.preview and not contains_unknowns(goal.inputs):
            self.put(goal)
        self.step(op, goal)
        return goal.urn, goal.id, goal.outputs

    def _import(self, goal: ResourceState, import_id: str) -> tuple[str, str, dict[str, Any]]:
        host = self.host()
        # The engine reads with only the id: the dynamic host finds no __provider.
        id_, outs, _ = self.call("Read", goal.urn, lambda: host.read(import_id, goal.urn, {}))
        goal.id = id_
        goal.outputs = outs
        if not self.preview:
            self.put(goal)
        self.step("import", goal)
        return goal.urn, id_, outs

    def read_resource(self, req: Any) -> tuple[str, dict[str, Any]]:
        urn = self.engine._make_urn(req.type, req.name, req.parent)
        if self.failure is not None:
            raise _StepFailed(urn, "deployment cancelled after an earlier failure")
        try:
            props = from_struct(req.properties, keep_unknowns=True)
            res = ResourceState(urn=urn, type=req.type, custom=True, external=True)
            res.parent = req.parent
            res.dependencies = list(req.dependencies)
            with self._lock:
                self.registered.add(urn)
            if not req.type.startswith(DYNAMIC_PREFIX):
                res.id, res.outputs = req.id, dict(props)
            else:
                host = self.host()
                # A user-driven Get passes only inputs (the host falls back to them).
                id_, outs, _ = self.call(
                    "Read", urn, lambda: host.read(req.id, urn, {}, inputs=props)
                )
                if not id_:
                    raise _StepFailed(urn, f"resource '{req.id}' does not exist")
                res.id, res.outputs = id_, annotate_secrets(outs, props)
                res.inputs = props
            if not self.preview:
                self.put(res)
            self.step("read", res)
            return urn, res.outputs
        except BaseException as exc:
            raise self.fail(urn, exc) from exc

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            i = self._index(urn)
            if i is not None and not contains_unknowns(outputs):
                self.new[i].outputs = outputs
            if urn == self.engine._stack_urn():
                self.stack_outputs = outputs
            if i is not None:
                self.save()

    # -- after the program ----------------------------------------------------------

    def finish_up(self) -> None:
        """Deferred deletes: replaced resources and those the program no longer declares."""
        doomed = [
            r
            for r in self.new
            if r.delete or (r.urn not in self.registered and r.type != STACK_TYPE)
        ]
        for res in _dependents_first(doomed, self.new):
            try:
                self.delete_resource(res, "delete-replaced" if res.delete else "delete")
            except BaseException as exc:
                raise self.fail(res.urn, exc) from exc


def _dependents_first(
    doomed: list[ResourceState], everything: list[ResourceState]
) -> list[ResourceState]:
    """Order ``doomed`` for deletion: a resource goes only once nothing left in ``doomed``
    depends on it (dependencies, property dependencies, parent, deleted_with); among
    those, the latest in state order goes first (the engine deletes in reverse order)."""
    position = {id(r): i for i, r in enumerate(everything)}
    remaining = sorted(doomed, key=lambda r: position.get(id(r), -1), reverse=True)
    order: list[ResourceState] = []
    while remaining:
        for r in remaining:
            blocked = any(
                r.urn in other.all_dependencies() and other.urn != r.urn
                for other in remaining
                if other is not r
            )
            if not blocked:
                break
        else:
            r = remaining[0]  # a cycle: the engine would refuse; just go in order
        remaining.remove(r)
        order.append(r)
    return order


class _HarnessMonitor(MockMonitor):
    """A resource monitor object for the SDK runtime, backed by the deployment."""

    def __init__(self, deployment: _Deployment) -> None:
        super().__init__(_NoCalls())
        self.deployment = deployment

    def RegisterResource(self, request: Any) -> Any:
        urn, id_, outs = self.deployment.register(request)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=to_struct(outs))

    def ReadResource(self, request: Any) -> Any:
        urn, outs = self.deployment.read_resource(request)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=to_struct(outs))

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.deployment.register_outputs(request.urn, from_struct(request.outputs, True))
        return empty_pb2.Empty()


# -- the engine --------------------------------------------------------------------


class Engine:
    """A stack: a program, its config and a JSON state file kept between operations."""

    def __init__(
        self,
        state_path: str | os.PathLike[str],
        *,
        project: str = "test",
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        program: str | os.PathLike[str] | None = None,
        parallel: int = 1,
    ) -> None:
        self.state_path = Path(state_path)
        self.project = project
        self.stack = stack
        self.config: dict[str, str] = dict(config or {})
        self.secret_keys: set[str] = set(secret_keys)
        self.env: dict[str, str] = dict(env or {})
        self.program = Path(program) if program is not None else None
        self.parallel = parallel

    # -- public operations ------------------------------------------------------------

    def preview(self, program: str | os.PathLike[str] | None = None) -> Result:
        return self._run_program_operation("preview", True, program)

    def up(self, program: str | os.PathLike[str] | None = None) -> Result:
        return self._run_program_operation("up", False, program)

    def refresh(self) -> Result:
        dep = _Deployment(self, "refresh", False)
        try:
            for res in list(dep.new):
                if res.delete or not res.dynamic:
                    dep.step("same", res)
                    continue
                try:
                    self._refresh_one(dep, res)
                except BaseException as exc:
                    failed = dep.fail(res.urn, exc)
                    raise self._error(dep, failed) from exc
        finally:
            dep.close()
        return dep.result

    def destroy(self) -> Result:
        dep = _Deployment(self, "destroy", False)
        try:
            for res in _dependents_first(list(dep.new), dep.new):
                try:
                    dep.delete_resource(res)
                except BaseException as exc:
                    failed = dep.fail(res.urn, exc)
                    raise self._error(dep, failed) from exc
            self._save([])
        finally:
            dep.close()
        return dep.result

    # -- state ------------------------------------------------------------------------

    def resources(self) -> list[ResourceState]:
        return self._load()

    def resource(self, name_or_urn: str) -> ResourceState | None:
        for r in self._load():
            if name_or_urn in (r.urn, r.name) and not r.delete:
                return r
        return None

    def stack_outputs(self) -> dict[str, Any]:
        r = self.resource(self._stack_urn())
        return strip_secrets(r.outputs) if r else {}

    def urn(self, type_: str, name: str, parent_urn: str = "") -> str:
        return self._make_urn(type_, name, parent_urn)

    def _stack_urn(self) -> str:
        return self._make_urn(STACK_TYPE, f"{self.project}-{self.stack}", "")

    def _make_urn(self, type_: str, name: str, parent: str) -> str:
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:  # children of the stack get no prefix
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    def _load(self) -> list[ResourceState]:
        if not self.state_path.exists():
            return []
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        return [ResourceState.from_json(r) for r in data.get("resources", [])]

    def _save(self, resources: list[ResourceState]) -> None:
        data = {
            "version": STATE_VERSION,
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in resources],
        }
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def _host_cwd(self) -> Path | None:
        return None  # the repo root: the provider host imports providers from there

    # -- running the program ------------------------------------------------------------

    def _main_path(self, program: str | os.PathLike[str] | None) -> Path:
        path = Path(program) if program is not None else self.program
        if path is None:
            raise ValueError("no program given")
        if path.is_dir():
            path = path / "__main__.py"
        if not path.exists():
            raise FileNotFoundError(path)
        return path.resolve()

    def _run_program_operation(
        self, operation: str, preview: bool, program: str | os.PathLike[str] | None
    ) -> Result:
        main = self._main_path(program)
        dep = _Deployment(self, operation, preview)
        try:
            program_error = self._run_program(dep, main)
            if dep.failure is not None:
                raise self._error(dep, dep.failure)
            if program_error is not None:
                lines = [ln for ln in program_error[1].strip().splitlines() if ln.strip()]
                message = lines[-1] if lines else repr(program_error[0])
                raise EngineError(
                    f"program failed: {message}",
                    urn=None,
                    result=dep.result,
                    details=program_error[1],
                )
            if not preview:
                dep.finish_up()
            else:
                for res in _dependents_first(
                    [r for r in dep.old if r.urn not in dep.registered and r.type != STACK_TYPE],
                    dep.old,
                ):
                    dep.step("delete", res)
        except _StepFailed as exc:
            raise self._error(dep, exc) from exc
        finally:
            dep.close()
        outs = dep.stack_outputs
        dep.result.secret_outputs = {k for k, v in outs.items() if contains_secrets(v)}
        dep.result.outputs = {k: strip_secrets(v) for k, v in outs.items()}
        return dep.result

    def _error(self, dep: _Deployment, failed: _StepFailed) -> EngineError:
        dep.close()
        return EngineError(
            failed.message,
            urn=failed.urn,
            result=dep.result,
            details=failed.details,
            failures=failed.failures,
        )

    def _run_program(self, dep: _Deployment, main: Path) -> tuple[BaseException, str] | None:
        """Run the program in a fresh thread and context; returns (error, traceback) or None."""
        outcome: list[tuple[BaseException, str]] = []

        def target() -> None:
            try:
                contextvars.Context().run(self._program_thread, dep, main)
            except BaseException as exc:
                outcome.append((exc, format_exception(exc)))

        with self._program_environment(main):
            t = threading.Thread(target=target, name="pulumi-program")
            t.start()
            t.join()
        return outcome[0] if outcome else None

    def _program_thread(self, dep: _Deployment, main: Path) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        def on_loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            # Record without formatting a traceback (see format_exception); this also
            # catches "Future exception was never retrieved" from failed registrations.
            exc = context.get("exception")
            text = context.get("message", "")
            if exc is not None:
                text = f"{text}: {type(exc).__name__}: {exc}"
            dep.result.diagnostics.append(("loop", text))

        loop.set_exception_handler(on_loop_error)
        try:
            # Constructing Settings sets every runtime setting in this (fresh) context.
            Settings(
                project=self.project,
                stack=self.stack,
                monitor=_HarnessMonitor(dep),
                engine=_LogEngine(dep.result),
                dry_run=dep.preview,
                organization="organization",
                root_directory=str(main.parent),
                parallel=self.parallel,
            )
            set_all_config(dict(self.config), sorted(self.secret_keys))

            def program() -> None:
                runpy.run_path(str(main), run_name="__main__")

            loop.run_until_complete(run_in_stack(program))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            asyncio.set_event_loop(None)

    @contextmanager
    def _program_environment(self, main: Path) -> Iterator[None]:
        """sys.path, cwd and env for the program; modules loaded from its dir are dropped after."""
        program_dir = str(main.parent)
        before = set(sys.modules)
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        sys.path.insert(0, program_dir)
        os.environ.update(self.env)
        os.chdir(program_dir)
        try:
            yield
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            try:
                sys.path.remove(program_dir)
            except ValueError:
                pass
            for name in set(sys.modules) - before:
                mod_file = getattr(sys.modules.get(name), "__file__", None) or ""
                if mod_file.startswith(program_dir + os.sep):
                    del sys.modules[name]

    # -- refresh ------------------------------------------------------------------------

    def _refresh_one(self, dep: _Deployment, res: ResourceState) -> None:
        host = dep.host()
        id_, outs, inputs = dep.call(
            "Read", res.urn, lambda: host.read(res.id, res.urn, res.outputs, res.inputs)
        )
        if not id_:
            dep.step("refresh-delete", res)
            dep.remove(res)
            return
        new = ResourceState.from_json(res.to_json())
        new.id = id_
        new.outputs = annotate_secrets(outs, res.outputs)
        if inputs is not None:
            new.inputs = annotate_secrets(inputs, res.inputs)
        changed = _plain(new.outputs) != _plain(res.outputs) or _plain(new.inputs) != _plain(
            res.inputs
        )
        dep.put(new)
        dep.step("refresh" if changed else "same", new)
