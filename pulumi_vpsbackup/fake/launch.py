"""Starting the fake's CLI in another process and reading its URL: the one launcher.

    from pulumi_vpsbackup.fake.launch import launch

    with launch("--world", "empty", token="vps_t") as fake:
        fake.url        # http://127.0.0.1:PORT/api/v1, read from the CLI's first line
        fake.admin_url  # http://127.0.0.1:PORT/__fake

The demo script, the benchmarks and the tests all start the fake this way. The
token goes to the child through ``VPS_FAKE_TOKEN``, never on its command line
(where ``ps`` shows it). The child imports the same ``pulumi_vpsbackup`` as
this process: the directory holding the package goes first on its
``PYTHONPATH``. Its standard error goes to a temporary file (a pipe nobody
reads could fill and stall it) and is read back when it stops or fails.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["LISTENING", "FakeStartError", "LaunchedFake", "launch"]

#: The start of the CLI's first line; the URL follows it.
LISTENING = "VPS.org fake API listening on "
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


class FakeStartError(RuntimeError):
    """The fake's process did not report its URL: it exited, or took too long.

    ``returncode`` is None when it was still running (and has been stopped);
    ``stderr`` is what it wrote there.
    """

    def __init__(self, message: str, returncode: int | None, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class LaunchedFake:
    """A fake running as ``python -m pulumi_vpsbackup.fake``; :meth:`stop` ends it."""

    def __init__(
        self, process: subprocess.Popen[str], first_line: str, stderr_file: IO[str]
    ) -> None:
        self.process = process
        self.first_line = first_line
        self.url = first_line[len(LISTENING) :].strip()
        self.admin_url = self.url.removesuffix("/api/v1") + "/__fake"
        #: What the process wrote to standard error; complete once it has stopped.
        self.stderr = ""
        self._stderr_file = stderr_file

    def __repr__(self) -> str:
        return f"<LaunchedFake {self.url} pid={self.process.pid}>"

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM (a clean exit), SIGKILL if it lingers; its exit code. Idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if not self._stderr_file.closed:
            self._stderr_file.seek(0)
            self.stderr = self._stderr_file.read()
            self._stderr_file.close()
        if self.process.stdout is not None:
            with contextlib.suppress(OSError, ValueError):
                self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> LaunchedFake:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def launch(
    *args: str,
    port: int = 0,
    token: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    python: str = sys.executable,
) -> LaunchedFake:
    """Start the fake's CLI on 127.0.0.1 (``port`` 0 picks a free one) and wait for its URL.

    ``args`` are more CLI options (``"--world", "empty"``); ``env`` is laid over
    this process's environment. Raises :class:`FakeStartError` when the CLI
    exits or prints no URL within ``timeout`` seconds.
    """
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PACKAGE_PARENT), child_env.get("PYTHONPATH")) if p
    )
    if token is not None:
        child_env["VPS_FAKE_TOKEN"] = token
    command: Sequence[str] = [python, "-m", "pulumi_vpsbackup.fake", "--port", str(port), *args]
    stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps reading, so the child never blocks on a full pipe
        assert process.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in process.stdout:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="fake-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    line: str | None = ""
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line is None:  # standard output closed: the process is ending
            break
        if line.startswith(LISTENING):
            return LaunchedFake(process, line.rstrip("\n"), stderr_file)
    failed = LaunchedFake(process, LISTENING, stderr_file)
    code = failed.stop()
    if line is None:
        last = (failed.stderr.strip().splitlines() or ["no error output"])[-1]
        message = f"the fake API exited with status {code} ({last})"
        raise FakeStartError(message, code, failed.stderr)
    message = f"the fake API did not report its URL within {timeout:g} s"
    raise FakeStartError(message, None, failed.stderr)
