"""A tiny dynamic provider for testing the development harness (``vpsbackup_dev``) itself.

Each resource is one small text file ``<dir>/<name>`` holding ``content``. The
provider implements every method as a real dynamic provider must, since the
engine hands ``diff``, ``update``, ``read`` and ``delete`` the old outputs:
``create`` copies its inputs into its outputs, ``diff`` ignores ``__provider``,
``read`` reports a vanished file as gone, ``update`` keeps every output.

Inputs:
  dir, name, content        the file (``dir`` or ``name`` changing forces a replace)
  delete_before_replace     optional bool, echoed as ``DiffResult.delete_before_replace``
  fail_create, fail_update, fail_delete
                            optional bool: raise in that method (to test failures)
  sleep                     optional seconds to sleep in create (to test concurrency)

It lives in an importable module, so dill pickles it by reference and the
provider host imports it from ``tests.dev.sample_provider``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

PROVIDER_KEY = "__provider"
REPLACE_KEYS = ("dir", "name")
INPUT_KEYS = (
    "dir",
    "name",
    "content",
    "delete_before_replace",
    "fail_create",
    "fail_update",
    "fail_delete",
    "sleep",
)


def _path(props: dict[str, Any]) -> Path:
    return Path(props["dir"]) / props["name"]


class FileProvider(ResourceProvider):
    """Manages one text file per resource."""

    def __init__(self) -> None:
        super().__init__()
        self.config: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def __getstate__(self) -> dict[str, Any]:
        # Only configuration-free state travels in the pickle.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        self.config = {
            "greeting": req.config.get("sample:greeting"),
            "token": req.config.get("sample:token"),
        }
        print(f"sample: configured pid={os.getpid()}", file=sys.stderr, flush=True)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        name = news.get("name")
        if isinstance(name, str) and ("/" in name or not name):
            failures.append(CheckFailure("name", "name must be a plain, non-empty file name"))
        if "content" not in news:
            failures.append(CheckFailure("content", "content is required"))
        inputs = {k: v for k, v in news.items() if k in INPUT_KEYS or k == PROVIDER_KEY}
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUT_KEYS if k not in ("sleep",) and olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        dbr = bool(news.get("delete_before_replace")) if replaces else None
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=dbr)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if props.get("sleep"):
                time.sleep(float(props["sleep"]))
            if props.get("fail_create"):
                raise RuntimeError(f"create of {props['name']} refused: fail_create is set")
            path = _path(props)
            if path.exists():
                raise RuntimeError(f"{path} already exists")
            path.write_text(str(props["content"]), encoding="utf-8")
            print(f"sample: created {path}", file=sys.stderr, flush=True)
            outs = {k: v for k, v in props.items() if k in INPUT_KEYS}
            outs["path"] = str(path)
            outs["size"] = path.stat().st_size
            outs["greeting"] = self.config.get("greeting")
            outs["max_active"] = self.max_active
            return CreateResult(str(path), outs)
        finally:
            with self._lock:
                self.active -= 1

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(id_)
        if not path.exists():
            return ReadResult(None, {})
        content = path.read_text(encoding="utf-8")
        outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        outs["content"] = content
        outs["size"] = path.stat().st_size
        inputs = {k: v for k, v in props.items() if k in INPUT_KEYS}
        inputs["content"] = content
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news.get("fail_update"):
            raise RuntimeError(f"update of {id_} refused: fail_update is set")
        path = Path(id_)
        path.write_text(str(news["content"]), encoding="utf-8")
        outs = {k: v for k, v in olds.items() if k != PROVIDER_KEY}
        outs.update({k: v for k, v in news.items() if k in INPUT_KEYS})
        outs["size"] = path.stat().st_size
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("fail_delete"):
            raise RuntimeError(f"delete of {id_} refused: fail_delete is set")
        Path(id_).unlink(missing_ok=True)


class SampleFile(pulumi.dynamic.Resource, module="sample", name="File"):
    """A program-side resource for ``FileProvider``; outputs mirror the inputs."""

    path: pulumi.Output[str]
    content: pulumi.Output[str]
    size: pulumi.Output[float]

    def __init__(
        self,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        full = {"path": None, "size": None, "greeting": None, **props}
        super().__init__(FileProvider(), name, full, opts)
