"""A Python language host for the Pulumi CLI built by `make cli`.

Why this exists: the Go module proxy serves Pulumi's `pkg/v3` and `sdk/v3`
(so `pulumi` itself is built from source, unchanged), but not the module of
the Python language host (`sdk/python/cmd/pulumi-language-python/v3`: every
version is refused). The engine needs a `pulumi-language-python` plugin to
run a project directory's program. This one does what the Go host does for a
`pulumi preview/up/refresh/destroy` of a virtualenv project, and nothing
else: it runs Pulumi's own `pulumi-language-python-exec` (shipped in the
`sdk/v3` module, copied beside this file) with the project's virtualenv
interpreter, the same arguments and the same environment (`PULUMI_CONFIG`,
`PULUMI_CONFIG_SECRET_KEYS`). The engine, the plan, the display, the state
and the dynamic-provider launcher are Pulumi's own.

Not served: `pulumi new` templates, policy packs, code generation, uv or
poetry toolchains. Users install the real CLI the normal way.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

HERE = Path(__file__).resolve().parent
EXEC = HERE / "pulumi-language-python-exec"
VERSION = (HERE / "VERSION").read_text().strip() if (HERE / "VERSION").exists() else "0.0.0"
# The exec script's exit code for "the error was already shown to the user".
SHOWN = 32


def _virtualenv(info: language_pb2.ProgramInfo) -> str | None:
    options = dict(info.options) if info.HasField("options") else {}
    venv = options.get("virtualenv")
    if not venv:
        return None
    path = Path(str(venv))
    if not path.is_absolute():
        path = Path(info.root_directory) / path
    return str(path)


def _python(venv: str | None) -> tuple[str, dict[str, str]]:
    env = dict(os.environ)
    if venv is None:
        return env.get("PULUMI_PYTHON_CMD", "python3"), env
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"The 'virtualenv' option in Pulumi.yaml is set to {venv!r}, which has no "
            "bin/python. Create it: python3 -m venv <dir> && <dir>/bin/pip install -r "
            "requirements.txt"
        )
    env["VIRTUAL_ENV"] = venv
    env["PATH"] = f"{Path(venv) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    return str(python), env


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine: str) -> None:
        self.engine = engine

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request, context):
        venv = _virtualenv(request.info) if request.HasField("info") else None
        if venv is not None and not (Path(venv) / "bin" / "python").exists():
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"virtualenv {venv} does not exist; create it and install requirements.txt",
            )
        yield from ()

    def About(self, request, context):
        return language_pb2.AboutResponse(
            executable=sys.executable, version=".".join(map(str, sys.version_info[:3]))
        )

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def Run(self, request, context):
        info = request.info
        try:
            python, env = _python(_virtualenv(info))
        except FileNotFoundError as exc:
            return language_pb2.RunResponse(error=str(exc))
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        program = info.entry_point or "."
        if not os.path.isabs(program):
            program = os.path.join(info.program_directory or request.pwd, program)
        argv = [
            python,
            "-u",
            str(EXEC),
            "--monitor",
            request.monitor_address,
            "--engine",
            self.engine,
            "--project",
            request.project,
            "--stack",
            request.stack,
            "--pwd",
            request.pwd,
            "--dry_run",
            "true" if request.dryRun else "false",
            "--parallel",
            str(request.parallel),
            "--root_directory",
            info.root_directory,
        ]
        if request.organization:
            argv += ["--organization", request.organization]
        argv += [program, *request.args]
        code = subprocess.call(argv, env=env, cwd=request.pwd or None)  # noqa: S603
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN:
            # The program's error already reached the engine through the SDK's log.
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", nargs="?", default="")
    args, _unknown = parser.parse_known_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(args.engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The engine ends its plugins with SIGINT, then SIGKILL: leave quietly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.stop(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
