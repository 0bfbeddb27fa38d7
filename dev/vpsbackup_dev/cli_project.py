"""Small Pulumi projects run with the real `pulumi` command, as a user types it.

For the CLI tests (tests/cli) and the request-count benchmark: they are about
what the CLI prints and sends (plans, errors, progress lines), which the
automation API hides, so `pulumi` runs in a subprocess and its combined output
is read. Each project is a directory with a `__main__.py` the caller writes, a
`Pulumi.yaml` whose virtualenv is this interpreter's (program and provider host
must share it: the provider is pickled), and a stack `test` on a file backend
(`offline_env`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Long enough for a cold provider host on a loaded 2-core machine, short
# enough that a hung CLI fails the test rather than the CI run.
TIMEOUT = 240
PASSPHRASE = "vpsbackup-cli-tests"


def offline_env(state: Path, home: Path) -> dict[str, str]:
    """What every CLI run here gets: a file backend, passphrase secrets, nothing online."""
    return {
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_HOME": str(home),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
    }


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    out: str

    def __str__(self) -> str:
        return f"$ pulumi {' '.join(self.args)}  (exit {self.code})\n{self.out}"


@dataclass
class CliProject:
    """One project directory and its stack `test`."""

    path: Path
    env: dict[str, str]
    runs: list[Ran] = field(default_factory=list)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """`pulumi ARGS` in the background, in its own process group (for Ctrl-C)."""
        return subprocess.Popen(
            ["pulumi", "--non-interactive", "--color", "never", *args],
            cwd=self.path,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def run(self, *args: str, ok: bool = True, timeout: float = TIMEOUT) -> Ran:
        """`pulumi ARGS` in the project; `ok=True` asserts a zero exit."""
        proc = self.start(*args)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # pulumi and every plugin it started
            proc.communicate()
            raise
        ran = Ran(args, proc.returncode, out)
        self.runs.append(ran)
        if ok:
            assert ran.code == 0, str(ran)
        return ran

    def config(self, key: str, value: str, *, secret: bool = False) -> None:
        self.run("config", "set", key, *(["--secret"] if secret else []), "--", value)

    def write(self, program: str) -> None:
        (self.path / "__main__.py").write_text(textwrap.dedent(program), encoding="utf-8")

    def up(self, *extra: str, ok: bool = True) -> Ran:
        return self.run("up", "--yes", "--skip-preview", *extra, ok=ok)

    def preview(self, *extra: str, ok: bool = True) -> Ran:
        return self.run("preview", *extra, ok=ok)

    def export(self) -> str:
        return self.run("stack", "export", "--show-secrets=false").out

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json").out)


#: What the CLI prints when a first Ctrl-C has reached it (a second one terminates).
CANCELLING = "^C received; cancelling."


def interrupt(
    proc: subprocess.Popen[str], *, wait_for: str, times: int = 1, within: float = TIMEOUT
) -> str:
    """Press Ctrl-C `times` times (SIGINT to the process group) once `wait_for` shows;
    each press after the first once the CLI has said it received the one before."""
    assert proc.stdout is not None
    stream = proc.stdout
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + within

    def shown(text: str, count: int = 1) -> None:
        while "".join(seen).count(text) < count:
            if proc.poll() is not None:
                reader.join(5)  # what it printed before it exited is read: look again
                if "".join(seen).count(text) >= count:
                    return
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                reader.join(5)
                raise AssertionError(f"never saw {text!r} {count} time(s):\n{''.join(seen)}")
            time.sleep(0.05)

    shown(wait_for)
    for pressed in range(1, times + 1):
        os.killpg(proc.pid, signal.SIGINT)
        if pressed < times:
            shown(CANCELLING, pressed)
    proc.wait(timeout=within)
    reader.join(10)
    stream.close()
    return "".join(seen)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, by the parent links in /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue  # ended meanwhile
        # The command name (field 2) may hold spaces and parentheses: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Watched:
    """A background `pulumi` whose output is read as it comes, so a test can act
    the moment a line shows rather than sleep and hope."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        stream = proc.stdout
        self.proc = proc
        self._seen: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self._seen.extend(iter(stream.readline, "")), daemon=True
        )
        self._reader.start()

    @property
    def out(self) -> str:
        return "".join(self._seen)

    def wait_for(self, text: str, *, unless: str | None = None, within: float = TIMEOUT) -> None:
        """Return once `text` is in the output; fail if the process ends, time runs
        out or `unless` shows first."""
        deadline = time.monotonic() + within
        while text not in self.out:
            if unless is not None and unless in self.out:
                self.kill()
                raise AssertionError(f"saw {unless!r} before {text!r}:\n{self.out}")
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"never saw {text!r}:\n{self.out}")
            time.sleep(0.05)

    def kill(self) -> str:
        """SIGKILL pulumi and every process below it: nothing gets to record anything,
        as when a machine or a CI job dies. The CLI starts its language host in a
        process group of its own, which a kill of pulumi's group alone would leave
        running (with the program under it) long after the test."""
        below = descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.finish()

    def finish(self, *, within: float = TIMEOUT) -> str:
        """Wait for the process to end; all it printed."""
        self.proc.wait(timeout=within)
        self._reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.out


def make_project(
    root: Path, name: str, program: str, env: Mapping[str, str], api_url: str, token: str
) -> CliProject:
    """`root/name` with `program`, its stack `test` and the fake's URL and `token` (none
    when empty) in the stack config."""
    path = root / name
    path.mkdir(parents=True)
    settings = {
        "name": name,
        "runtime": {"name": "python", "options": {"virtualenv": sys.prefix}},
    }
    (path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    project = CliProject(path, {**os.environ, **env})
    project.write(program)
    project.run("stack", "init", "test")
    project.config("vpsbackup:apiUrl", api_url)
    if token:
        project.config("vpsbackup:apiToken", token, secret=True)
    return project


__all__ = ["PASSPHRASE", "CliProject", "Ran", "Watched", "interrupt", "make_project", "offline_env"]
