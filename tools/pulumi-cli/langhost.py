"""The Python and Node.js language hosts for the Pulumi CLI built by `make cli`.

Why this exists: the Go module proxy serves Pulumi's `pkg/v3` and `sdk/v3`
(so `pulumi` itself is built from source, unchanged), but not the modules of
the language hosts (`sdk/python/cmd/pulumi-language-python/v3` and
`sdk/nodejs/cmd/pulumi-language-nodejs/v3`: every version is refused). The
engine needs a `pulumi-language-<runtime>` plugin to run a project
directory's program and to generate an SDK. This one program serves both
runtimes (`--runtime python|nodejs`, set by the wrapper scripts beside it)
and does what the Go hosts do for `pulumi preview/up/refresh/destroy` and
`pulumi package gen-sdk`, and nothing else:

- python: runs Pulumi's own `pulumi-language-python-exec` (shipped in the
  `sdk/v3` module, copied beside this file) with the project's virtualenv
  interpreter, the same arguments and the same environment (`PULUMI_CONFIG`,
  `PULUMI_CONFIG_SECRET_KEYS`).
- nodejs: runs `node` on `@pulumi/pulumi/cmd/run` from the program's own
  `node_modules`, with the arguments and environment the Go host passes
  (TypeScript through the SDK's own ts-node unless `typescript: false`).
- code generation: runs `pulumi-vpsbackup-sdkgen` (sdkgen/main.go, built from
  the same pinned `pkg/v3`), which calls Pulumi's own code generators.

The engine, the plan, the display, the state and the dynamic-provider
launcher are Pulumi's own. Not served: `pulumi new` templates, policy packs,
program conversion, uv or poetry toolchains, yarn/pnpm/bun, the Node.js
host's synchronous-invoke pipes (`--sync`). Users install the real CLI the
normal way.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
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
SDKGEN = HERE / "pulumi-vpsbackup-sdkgen"
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


def _options(info: language_pb2.ProgramInfo) -> dict[str, object]:
    return dict(info.options) if info.HasField("options") else {}


def _program_dir(request: language_pb2.RunRequest) -> str:
    return request.info.program_directory or request.pwd


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """What both runtimes serve alike; `language` names the SDK generator to use."""

    language = ""

    def __init__(self, engine: str) -> None:
        self.engine = engine

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def GeneratePackage(self, request, context):
        if request.extra_files:
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "overlay files (--overlays) are not supported by this stand-in language host",
            )
        argv = [
            str(SDKGEN),
            "-language",
            self.language,
            "-out",
            request.directory,
            "-loader",
            request.loader_target,
        ]
        if request.local:
            argv.append("-local")
        done = subprocess.run(  # noqa: S603
            argv, input=request.schema, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, done.stderr.strip() or done.stdout)
        return language_pb2.GeneratePackageResponse()

    def Cancel(self, request, context):
        return empty_pb2.Empty()


class PythonHost(LanguageHost):
    language = "python"

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


class NodejsHost(LanguageHost):
    language = "nodejs"
    # Where @pulumi/pulumi keeps its program runner; PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides.
    RUN = "@pulumi/pulumi/cmd/run"

    def InstallDependencies(self, request, context):
        root = request.info.program_directory if request.HasField("info") else request.directory
        if not (Path(root) / "node_modules").is_dir():
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{root} has no node_modules; run npm install there first",
            )
        yield from ()

    def About(self, request, context):
        node = shutil.which("node")
        if node is None:
            return language_pb2.AboutResponse()
        version = subprocess.run(  # noqa: S603
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        return language_pb2.AboutResponse(executable=node, version=version.lstrip("v"))

    def Run(self, request, context):
        node = shutil.which("node")
        if node is None:
            return language_pb2.RunResponse(
                error="could not find node on the $PATH: install Node.js (18 or later)"
            )
        directory = _program_dir(request)
        wanted = os.environ.get("PULUMI_LANGUAGE_NODEJS_RUN_PATH") or self.RUN
        # Resolved from the program's directory: its own node_modules, as the Go host does.
        found = subprocess.run(  # noqa: S603
            [node, "-e", "console.log(require.resolve(process.argv[1]))", wanted],
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode != 0:
            return language_pb2.RunResponse(
                error=f"It looks like the Pulumi SDK has not been installed in {directory}: "
                f"{wanted} was not found. Have you run npm install?"
            )
        options = _options(request.info)
        env = dict(os.environ)
        # The Node.js SDK reads config keys in the old `<namespace>:config:<name>` form.
        env["PULUMI_CONFIG"] = json.dumps(
            {_old_config_key(key): value for key, value in request.config.items()}
        )
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        if options.get("typescript", True) not in (False, "false"):
            env["PULUMI_NODEJS_TYPESCRIPT"] = "true"
        if options.get("tsconfig"):
            env["PULUMI_NODEJS_TSCONFIG_PATH"] = str(options["tsconfig"])
        argv = [node, *shlex.split(str(options.get("nodeargs", ""))), found.stdout.strip()]
        for flag, value in (
            ("--monitor", request.monitor_address),
            ("--engine", self.engine),
            ("--organization", request.organization),
            ("--project", request.project),
            ("--root-directory", request.info.root_directory),
            ("--stack", request.stack),
            ("--pwd", directory),
        ):
            if value:
                argv += [flag, value]
        if request.dryRun:
            argv.append("--dry-run")
        argv += ["--parallel", str(request.parallel)]
        argv += [request.info.entry_point or ".", *request.args]
        code = subprocess.call(argv, env=env, cwd=directory or None)  # noqa: S603
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")


def _old_config_key(key: str) -> str:
    namespace, sep, name = key.partition(":")
    if not sep or name.startswith("config:"):
        return key
    return f"{namespace}:config:{name}"


HOSTS: dict[str, type[LanguageHost]] = {"python": PythonHost, "nodejs": NodejsHost}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", choices=sorted(HOSTS), default="python")
    parser.add_argument("engine", nargs="?", default="")
    args, _unknown = parser.parse_known_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    host = HOSTS[args.runtime](args.engine)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The engine ends its plugins with SIGINT, then SIGKILL: leave quietly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.stop(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
