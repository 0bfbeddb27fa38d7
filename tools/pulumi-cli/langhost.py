"""The Python and Node.js language hosts for the Pulumi CLI built by `make cli`,
and the code-generation half of a Go one.

Why this exists: the Go module proxy serves Pulumi's `pkg/v3` and `sdk/v3`
(so `pulumi` itself is built from source, unchanged), but not the modules of
the language hosts (`sdk/python/cmd/pulumi-language-python/v3` and
`sdk/nodejs/cmd/pulumi-language-nodejs/v3`: every version is refused). The
engine needs a `pulumi-language-<runtime>` plugin for everything that touches
a project's program. This one program serves all three runtimes (`--runtime
python|nodejs|go`, set by the wrapper scripts beside it).

What a user meets is meant to be what Pulumi's own hosts do; each behaviour
below was read from their source (`sdk/python/cmd/pulumi-language-python/
main.go` and `sdk/nodejs/cmd/pulumi-language-nodejs/main.go` at v3.259.0,
the closest stored to the pinned CLI; `sdk/python/toolchain` at v3.276.0,
from the pinned `sdk/v3` module):

python (pip toolchain only)
- Run: Pulumi's own `pulumi-language-python-exec` (shipped in `sdk/v3`,
  copied beside this file) under the project's virtualenv interpreter, with
  the same arguments (the entry point as the engine gives it) and
  environment (`PULUMI_CONFIG`, `PULUMI_CONFIG_SECRET_KEYS`); a failed run
  reads "program exited with non-zero exit code: N", as there.
- GetRequiredPackages (before `preview`/`up`, in `pulumi install`): creates
  the virtualenv named in Pulumi.yaml if it is missing or empty, lists its
  distributions with `pip list --format json`, finds each one's
  `pulumi-plugin.json` through importlib, and reports a resource plugin for
  every distribution that has one saying `"resource": true` or, without one,
  whose normalized name starts with `pulumi-` (pulumi-policy and
  pulumi-esc-sdk excepted). Name, version, server and parameterization come
  from the file, else from the distribution (`pulumi-aws` 6.1 -> `aws`
  v6.1.0). GetRequiredPlugins is unimplemented, as there.
- InstallDependencies (`pulumi install`, `pulumi package add`): `python -m
  venv` for the virtualenv, `pip install --upgrade pip setuptools wheel`,
  then `pip install -r requirements.txt` when there is one; pip's output is
  streamed to the CLI.
- About / GetProgramDependencies: the virtualenv's interpreter, its version,
  pip's version, and `pip list` of the virtualenv.
- GenerateProgram / GenerateProject (`pulumi import`, `pulumi convert`),
  Link (`pulumi package add`: the SDK's path goes into requirements.txt)
  and GeneratePackage (`pulumi package gen-sdk`): `pulumi-vpsbackup-sdkgen`
  (sdkgen/, built from the pinned `pkg/v3`), which runs Pulumi's own
  binder, code generators and Python toolchain.

nodejs
- Run: `node` on `@pulumi/pulumi/cmd/run` from the program's own
  `node_modules`, with the arguments and environment the Go host passes
  (TypeScript through the SDK's own ts-node unless `typescript: false`).
- GetRequiredPackages: every `package.json` under a `node_modules` below the
  program whose `pulumi` section says `"resource": true` (policy packs
  skipped); name from that section or an `@pulumi/` package name.
- GeneratePackage, as for python, and GenerateProgram (`pulumi import`
  writes TypeScript) with pkg/v3's Node.js program generator.

go
- GeneratePackage only (`pulumi package gen-sdk --language go`), with
  pkg/v3's Go generator, as Pulumi's Go host does (sdk/go/pulumi-language-go/
  main.go: no overlays, no go.mod unless the schema's meta has supportPack).
  Running Go programs is left to Pulumi's own Go host of sdk/v3 v3.66.0,
  which `make hosts` builds (tools/hosts/build.sh); that host has no
  GeneratePackage, so `make sdks` puts this directory first on PATH.

Not served: `pulumi new` templates, policy packs, Python plugins
(RunPlugin), the uv and poetry toolchains, typecheckers, the Python version
warnings, debugging, yarn/pnpm/bun, the Node.js host's dependency
installation and linking, and its synchronous-invoke
pipes (`--sync`). Users install the real CLI the normal way.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    language_pb2,
    language_pb2_grpc,
    plugin_pb2,
)

HERE = Path(__file__).resolve().parent
EXEC = HERE / "pulumi-language-python-exec"
VERSION = (HERE / "VERSION").read_text().strip() if (HERE / "VERSION").exists() else "0.0.0"
# The exec script's exit code for "the error was already shown to the user".
SHOWN = 32

#: Where output goes while a command runs: `write("stdout" | "stderr", data)`.
Write = Callable[[str, bytes], None]


class HostError(Exception):
    """A failure the CLI shows the user; `code` is the gRPC status it is sent with."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN) -> None:
        super().__init__(message)
        self.code = code


def _abort(context: grpc.ServicerContext, error: HostError) -> None:
    context.abort(error.code, str(error))


# ---- running commands -------------------------------------------------------------


def _stream(argv: list[str], env: dict[str, str], cwd: str | None, write: Write) -> tuple[int, str]:
    """Run argv, passing its stdout and stderr to `write` as they come; its exit code
    and all it wrote to stderr."""
    try:
        proc = subprocess.Popen(  # noqa: S603
            argv, env=env, cwd=cwd or None, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise HostError(f"could not run {argv[0]}: {exc}") from exc
    errors: list[bytes] = []

    def pump(stream: Any, name: str) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            if name == "stderr":
                errors.append(chunk)
            write(name, chunk)

    pumps = [
        threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    for thread in pumps:
        thread.join()
    return proc.wait(), b"".join(errors).decode("utf-8", "replace").strip()


def _output(argv: list[str], env: dict[str, str], what: str) -> str:
    """Run argv and return its stdout; a failure names the command and its stderr."""
    try:
        done = subprocess.run(  # noqa: S603
            argv, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise HostError(f"{what}: could not run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise HostError(
            f"{what}: `{' '.join(argv)}` exited with {done.returncode}: {done.stderr.strip()}"
        )
    return done.stdout


# ---- the Python toolchain (pip) ----------------------------------------------------

#: The distributions that are known to have no plugin although their names say so.
NO_PLUGIN = frozenset({"pulumi-policy", "pulumi-esc-sdk"})

#: Prints {distribution: path of the pulumi-plugin.json in its top-level package, or ""}.
PLUGIN_JSON_SCRIPT = """\
import importlib.metadata, importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    path = ""
    try:
        dist = importlib.metadata.distribution(name)
        spec = importlib.util.find_spec(dist.metadata["Name"].replace("-", "_"))
        for where in (spec.submodule_search_locations or []) if spec else []:
            candidate = os.path.join(str(where), "pulumi-plugin.json")
            if os.path.isfile(candidate):
                path = candidate
                break
    except Exception:
        pass
    found[name] = path
print(json.dumps(found))
"""


def normalize(name: str) -> str:
    """A distribution name in PEP 503 form: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name.lower())


def plugin_version(version: str) -> str | None:
    """A PEP 440 version as a plugin's semver (`1.2` -> `1.2.0`, `1.2.3a4` -> `1.2.3-alpha.4`,
    `1.2.3.post4.dev5` -> `1.2.3+post4dev5`); None for what cannot be translated (epochs,
    local versions), whose package is then skipped."""
    if not version or not version.isascii():
        return None
    match = re.fullmatch(
        r"(\d+(?:\.\d+)*)(?:(a|b|rc)(\d*))?(?:\.post(\d*))?(?:\.dev(\d*))?", version
    )
    if match is None:
        return None
    release, pre_kind, pre_number, post, dev = match.groups()
    segments = release.split(".")
    segments += ["0"] * (3 - len(segments))
    result = ".".join(segments)
    if pre_kind:
        result += {"a": "-alpha.", "b": "-beta.", "rc": "-rc."}[pre_kind] + pre_number
    if post is not None:
        result += "+post" + post
    if dev is not None:
        result += ("" if post is not None else "+") + "dev" + dev
    return result


def _parameterization(raw: Any, where: str) -> plugin_pb2.PackageParameterization | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HostError(f"{where}: parameterization must be an object")
    value = raw.get("value") or ""
    return plugin_pb2.PackageParameterization(
        name=str(raw.get("name") or ""),
        version=str(raw.get("version") or ""),
        value=base64.b64decode(value) if value else b"",
    )


def package_dependency(
    name: str, version: str, plugin_json: dict[str, Any] | None, where: str = ""
) -> plugin_pb2.PackageDependency | None:
    """The resource plugin an installed distribution stands for, if any."""
    plugin_name = plugin_server = plugin_ver = ""
    parameterization = extension = None
    if plugin_json is not None:
        if plugin_json.get("resource") is not True:
            return None  # `"resource": false` (or no "resource"): no plugin
        plugin_name = str(plugin_json.get("name") or "")
        plugin_ver = str(plugin_json.get("version") or "")
        plugin_server = str(plugin_json.get("server") or "")
        parameterization = _parameterization(plugin_json.get("parameterization"), where)
        extension = _parameterization(plugin_json.get("extensionParameterization"), where)
    if not plugin_name:
        plugin_name = name.removeprefix("pulumi-")
    if not plugin_ver:
        translated = plugin_version(version)
        if translated is None:
            return None
        plugin_ver = translated
    if not plugin_ver.startswith("v"):
        plugin_ver = "v" + plugin_ver
    dependency = plugin_pb2.PackageDependency(
        name=plugin_name, kind="resource", version=plugin_ver, server=plugin_server
    )
    if parameterization is not None:
        dependency.parameterization.CopyFrom(parameterization)
    if extension is not None:
        dependency.extension.CopyFrom(extension)
    return dependency


def _python_version(text: str) -> str:
    """`Python 3.11.7` -> `3.11.7`; `3.13.0rc2` -> `3.13.0-rc.2`; "" if unreadable."""
    match = re.match(r"(?:Python )?(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc|dev)(\d+))?", text.strip())
    if match is None:
        return ""
    major, minor, patch, kind, number = match.groups()
    result = f"{major}.{minor}.{patch or 0}"
    if kind:
        result += {"a": "-alpha.", "b": "-beta.", "rc": "-rc.", "dev": "-dev."}[kind] + number
    return result


def _pip_version(text: str) -> str:
    """`pip 25.3 from ...` -> `25.3.0`; "" if unreadable."""
    match = re.match(r"pip\s+(\d+(?:\.\d+)*)", text.strip())
    if match is None:
        return ""
    parts = match.group(1).split(".")[:3]
    parts += ["0"] * (3 - len(parts))
    return ".".join(parts)


@dataclass
class Pip:
    """A project's Python: its virtualenv (Pulumi.yaml `runtime.options.virtualenv`,
    relative to the project root) or, without one, the `python3` on PATH."""

    root: str
    program_dir: str
    virtualenv: str  # as written in Pulumi.yaml; "" for none
    toolchain: str = "auto"
    typechecker: str = ""

    @classmethod
    def of(cls, info: language_pb2.ProgramInfo, *, is_plugin: bool = False) -> Pip:
        options: dict[str, Any] = dict(info.options) if info.HasField("options") else {}
        venv = options.get("virtualenv", "")
        if not isinstance(venv, str):
            raise HostError("virtualenv option must be a string", grpc.StatusCode.INVALID_ARGUMENT)
        toolchain = options.get("toolchain", "auto")
        if toolchain not in ("auto", "pip"):
            raise HostError(
                f"the runtime option toolchain in Pulumi.yaml is {toolchain!r}; the language host "
                "of this CLI build serves pip only: remove the option or install the Pulumi CLI",
                grpc.StatusCode.UNIMPLEMENTED,
            )
        typechecker = options.get("typechecker", "")
        if typechecker not in ("", "mypy", "pyright"):
            raise HostError(
                f"unsupported typechecker option: {typechecker}", grpc.StatusCode.INVALID_ARGUMENT
            )
        if is_plugin and not venv:
            venv = "venv"  # plugins never run on the ambient Python
        root = info.root_directory or info.program_directory
        program_dir = info.program_directory or root
        if toolchain == "auto":
            # Pulumi's host picks uv or poetry when it finds their lock file above the program.
            for lock in ("uv.lock", "poetry.lock"):
                found = _search_up(program_dir, lock)
                if found is not None:
                    raise HostError(
                        f"{found} selects the {lock.split('.')[0]} toolchain, which the language "
                        "host of this CLI build does not serve: install the Pulumi CLI, or set "
                        "`toolchain: pip` in Pulumi.yaml's runtime options",
                        grpc.StatusCode.UNIMPLEMENTED,
                    )
        return cls(root, program_dir, venv, toolchain, typechecker)

    @property
    def venv(self) -> str | None:
        """The virtualenv's absolute path, or None for the ambient Python."""
        if not self.virtualenv:
            return None
        return os.path.join(self.root, self.virtualenv)

    def is_venv(self) -> bool:
        venv = self.venv
        return venv is not None and os.path.isfile(os.path.join(venv, "bin", "python"))

    def env(self) -> dict[str, str]:
        """This process's environment with the virtualenv activated (PATH, VIRTUAL_ENV,
        no PYTHONHOME)."""
        env = dict(os.environ)
        venv = self.venv
        if venv is None:
            return env
        env.pop("PYTHONHOME", None)
        env["PATH"] = os.pathsep.join(filter(None, [os.path.join(venv, "bin"), env.get("PATH")]))
        env["VIRTUAL_ENV"] = venv
        return env

    def python(self) -> str:
        venv = self.venv
        if venv is not None:
            return os.path.join(venv, "bin", "python")
        return system_python()

    def missing_venv_error(self) -> HostError:
        venv = self.venv or ""
        state = "doesn't exist" if not os.path.exists(venv) else "isn't a virtual environment"
        python = os.path.join(venv, "bin", "python")
        return HostError(
            f"The 'virtualenv' option in Pulumi.yaml is set to {self.virtualenv!r}, but {venv!r} "
            f"{state}; create it with `pulumi install`, or by hand:\n\n"
            f"    1. python3 -m venv {venv}\n"
            f"    2. {python} -m pip install --upgrade pip setuptools wheel\n"
            f"    3. {python} -m pip install -r requirements.txt\n",
            grpc.StatusCode.FAILED_PRECONDITION,
        )

    # -- dependencies

    def ensure_venv(self, write: Write) -> None:
        """Create and fill the virtualenv if Pulumi.yaml names one that is missing or empty."""
        venv = self.venv
        if venv is None or self.is_venv():
            return
        if os.path.exists(venv):
            if not os.path.isdir(venv):
                raise HostError(
                    f"the 'virtualenv' option in Pulumi.yaml is set to {venv!r} but it is not "
                    "a directory"
                )
            if os.listdir(venv):
                return
        self.install_dependencies(write)

    def install_dependencies(self, write: Write) -> None:
        """`python -m venv`, upgrade pip, setuptools and wheel, install requirements.txt."""

        def say(message: str) -> None:
            write("stdout", f"{message}\n".encode())

        venv = self.venv
        if venv is not None:
            say("Creating virtual environment...")
            done = subprocess.run(  # noqa: S603
                [system_python(), "-m", "venv", venv], capture_output=True, check=False
            )
            if done.returncode != 0:
                write("stderr", done.stdout + done.stderr)
                raise HostError(
                    f"creating virtual environment at {venv!r}: exit status {done.returncode}"
                )
            say("Finished creating virtual environment")

        def pip_install(what: str, *args: str) -> None:
            argv = [self.python(), "-m", "pip", "install", *args]
            code, stderr = _stream(argv, self.env(), self.program_dir, write)
            if code != 0:
                detail = f": {stderr}" if stderr else ""
                raise HostError(f"{what} via '{' '.join(argv)}': exit status {code}{detail}")

        say("Updating pip, setuptools, and wheel in virtual environment...")
        pip_install(
            "updating pip, setuptools, and wheel", "--upgrade", "pip", "setuptools", "wheel"
        )
        say("Finished updating")
        if not os.path.exists(os.path.join(self.program_dir, "requirements.txt")):
            return
        say("Installing dependencies in virtual environment...")
        pip_install("installing dependencies", "-r", "requirements.txt")
        say("Finished installing dependencies")

    def list_packages(self, *, transitive: bool) -> list[tuple[str, str]]:
        """(normalized name, version) of each distribution `pip list` shows."""
        argv = [self.python(), "-m", "pip", "list", "--format", "json"]
        if not transitive:
            argv.append("--not-required")
        out = _output(argv, self.env(), "listing the installed Python packages")
        try:
            listed = json.loads(out)
        except json.JSONDecodeError as exc:
            raise HostError(f"parsing `{' '.join(argv)}` output: {exc}") from exc
        return [(normalize(str(p["name"])), str(p["version"])) for p in listed]

    def plugin_json_paths(self, names: list[str]) -> dict[str, str]:
        if not names:
            return {}
        try:
            out = _output(
                [self.python(), "-c", PLUGIN_JSON_SCRIPT, *names], self.env(), "pulumi-plugin.json"
            )
        except HostError:
            return {}  # as upstream: no paths, and the name rule alone decides
        try:
            return dict(json.loads(out))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise HostError(f"failed to parse pulumi-plugin.json paths: {exc}") from exc

    def required_packages(self) -> list[plugin_pb2.PackageDependency]:
        installed = self.list_packages(transitive=True)
        paths = self.plugin_json_paths([name for name, _ in installed])
        required = []
        for name, version in installed:
            if name in NO_PLUGIN:
                continue
            plugin_json = None
            path = paths.get(name) or ""
            if path:
                try:
                    text = Path(path).read_text("utf-8")
                except OSError:
                    text = None
                if text is not None:
                    try:
                        plugin_json = json.loads(text)
                    except json.JSONDecodeError as exc:
                        raise HostError(
                            f"failed to parse pulumi-plugin.json for {name}: {exc}"
                        ) from exc
                    if not isinstance(plugin_json, dict):
                        raise HostError(f"failed to parse pulumi-plugin.json for {name}: {path}")
            if plugin_json is None and not name.startswith("pulumi-"):
                continue
            dependency = package_dependency(name, version, plugin_json, path or name)
            if dependency is not None:
                required.append(dependency)
        return required

    def about(self) -> language_pb2.AboutResponse:
        env, python = self.env(), self.python()
        executable = _output(
            [python, "-c", "import sys; print(sys.executable)"], env, "failed to get python path"
        ).strip()
        try:
            version = _python_version(_output([python, "--version"], env, "python --version"))
        except HostError:
            version = ""
        try:
            pip = _pip_version(_output([python, "-m", "pip", "--version"], env, "pip --version"))
        except HostError:
            pip = ""
        return language_pb2.AboutResponse(
            executable=executable,
            version=version or "0.0.0",
            metadata={
                "toolchain": self.toolchain.capitalize(),
                "toolchainVersion": pip or "0.0.0",
                "typechecker": {"mypy": "Mypy", "pyright": "Pyright"}.get(self.typechecker, "None"),
            },
        )


def _search_up(directory: str, name: str) -> str | None:
    current = os.path.abspath(directory)
    while True:
        candidate = os.path.join(current, name)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def system_python() -> str:
    """PULUMI_PYTHON_CMD, else python3, else python, found on PATH."""
    wanted = [os.environ["PULUMI_PYTHON_CMD"]] if os.environ.get("PULUMI_PYTHON_CMD") else []
    for name in wanted or ["python3", "python"]:
        found = shutil.which(name)
        if found:
            return found
    raise HostError(
        f"failed to locate any of {wanted or ['python3', 'python']} on your PATH. "
        "Have you installed Python 3.10 or greater?",
        grpc.StatusCode.FAILED_PRECONDITION,
    )


def _options(info: language_pb2.ProgramInfo) -> dict[str, object]:
    return dict(info.options) if info.HasField("options") else {}


def _program_dir(request: language_pb2.RunRequest) -> str:
    return request.info.program_directory or request.pwd


# ---- the hosts ---------------------------------------------------------------------


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """What both runtimes serve alike; `language` names the SDK generator to use."""

    language = ""

    def __init__(self, engine: str, sdkgen: Path) -> None:
        self.engine = engine
        self.sdkgen = sdkgen

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        # As Pulumi's hosts: the engine asks GetRequiredPackages.
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "method GetRequiredPlugins not implemented")

    def GeneratePackage(self, request, context):
        if request.extra_files:
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "overlay files (--overlays) are not supported by this stand-in language host",
            )
        argv = [
            str(self.sdkgen),
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

    def _sdkgen_request(self, kind: str, request: Any, response: Any, context: Any) -> Any:
        """Pass a request to `pulumi-vpsbackup-sdkgen -request KIND`; its response."""
        done = subprocess.run(  # noqa: S603
            [str(self.sdkgen), "-request", kind, "-language", self.language],
            input=request.SerializeToString(),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            context.abort(
                grpc.StatusCode.UNKNOWN, done.stderr.decode("utf-8", "replace").strip() or kind
            )
        response.ParseFromString(done.stdout)
        return response

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def _engine_log(engine: str) -> Write:
    """Writes to the engine's log as ephemeral messages (what a host shows while it
    installs before a preview), or to stderr without an engine."""
    if not engine:
        return lambda _name, data: sys.stderr.buffer.write(data)
    stubs: list[engine_pb2_grpc.EngineStub] = []  # connected at the first message
    stream_id = random.randint(1, 2**31 - 1)

    def write(name: str, data: bytes) -> None:
        severity = engine_pb2.ERROR if name == "stderr" else engine_pb2.INFO
        if not stubs:
            stubs.append(engine_pb2_grpc.EngineStub(grpc.insecure_channel(engine)))
        try:
            stubs[0].Log(
                engine_pb2.LogRequest(
                    severity=severity,
                    message=data.decode("utf-8", "replace"),
                    ephemeral=True,
                    streamId=stream_id,
                )
            )
        except grpc.RpcError:
            sys.stderr.buffer.write(data)

    return write


def _install_stream(
    run: Callable[[Write], None], context: grpc.ServicerContext
) -> Iterator[language_pb2.InstallDependenciesResponse]:
    """Run `run(write)` in a thread and yield what it writes, as it comes."""
    chunks: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
    failure: list[HostError] = []

    def work() -> None:
        try:
            run(lambda name, data: chunks.put((name, data)))
        except HostError as exc:
            failure.append(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the CLI, not lost in a thread
            failure.append(HostError(f"{type(exc).__name__}: {exc}"))
        finally:
            chunks.put(None)

    threading.Thread(target=work, daemon=True).start()
    while (item := chunks.get()) is not None:
        name, data = item
        yield language_pb2.InstallDependenciesResponse(**{name: data})
    if failure:
        _abort(context, failure[0])


class PythonHost(LanguageHost):
    language = "python"

    def GetRequiredPackages(self, request, context):
        try:
            pip = Pip.of(request.info)
            pip.ensure_venv(_engine_log(self.engine))
            packages = pip.required_packages()
        except HostError as exc:
            _abort(context, exc)
        return language_pb2.GetRequiredPackagesResponse(packages=packages)

    def InstallDependencies(self, request, context):
        try:
            pip = Pip.of(request.info, is_plugin=request.is_plugin)
        except HostError as exc:
            _abort(context, exc)

        def run(write: Write) -> None:
            write("stdout", b"Installing dependencies...\n\n")
            pip.install_dependencies(write)
            write("stdout", b"Finished installing dependencies\n\n")

        yield from _install_stream(run, context)

    def About(self, request, context):
        try:
            if request.HasField("info"):
                pip = Pip.of(request.info)
            else:
                pip = Pip("", "", "", toolchain="pip")
            return pip.about()
        except HostError as exc:
            _abort(context, exc)

    def GetProgramDependencies(self, request, context):
        try:
            listed = Pip.of(request.info).list_packages(transitive=request.transitiveDependencies)
        except HostError as exc:
            _abort(context, HostError(f"failed to get python dependencies: {exc}", exc.code))
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[language_pb2.DependencyInfo(name=n, version=v) for n, v in listed]
        )

    def GenerateProgram(self, request, context):
        return self._sdkgen_request(
            "program", request, language_pb2.GenerateProgramResponse(), context
        )

    def GenerateProject(self, request, context):
        return self._sdkgen_request(
            "project", request, language_pb2.GenerateProjectResponse(), context
        )

    def Link(self, request, context):
        return self._sdkgen_request("link", request, language_pb2.LinkResponse(), context)

    def Run(self, request, context):
        info = request.info
        try:
            pip = Pip.of(info)
            if pip.venv is not None and not pip.is_venv():
                raise pip.missing_venv_error()
            python, env = pip.python(), pip.env()
        except HostError as exc:
            _abort(context, exc)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        # As Pulumi's host: the entry point as the engine gave it ("." for the program's
        # directory), run from the directory the host itself was started in (the
        # program's), so tracebacks show the paths the user knows.
        program = info.entry_point or "."
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
        code = subprocess.call(  # noqa: S603
            argv, env=env, cwd=info.program_directory or request.pwd or None
        )
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN:
            # The program's error already reached the engine through the SDK's log.
            return language_pb2.RunResponse(bail=True)
        # Pulumi's host words it so (lower case), and users' scripts may match it.
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")


# ---- Node.js ----------------------------------------------------------------------


def node_packages(program_dir: str) -> list[plugin_pb2.PackageDependency]:
    """The resource plugins that `package.json` files under a `node_modules` below
    `program_dir` declare (`"pulumi": {"resource": true, ...}`); policy packs are
    not entered, and each real directory is read once."""
    found: list[plugin_pb2.PackageDependency] = []
    seen: set[str] = set()

    def visit(directory: str, in_node_modules: bool) -> None:
        real = os.path.realpath(directory)
        if real in seen:
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks, as npm workspaces need
            except OSError:
                continue
            if is_dir:
                if any(
                    os.path.exists(os.path.join(entry.path, f))
                    for f in ("PulumiPolicy.yaml", "PulumiPolicy.yml")
                ):
                    continue
                visit(entry.path, in_node_modules or os.path.basename(directory) == "node_modules")
            elif in_node_modules and entry.name == "package.json":
                dependency = _node_dependency(entry.path)
                if dependency is not None:
                    found.append(dependency)

    visit(os.path.abspath(program_dir), False)
    return found


def _node_dependency(path: str) -> plugin_pb2.PackageDependency | None:
    try:
        info = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    section = info.get("pulumi") if isinstance(info, dict) else None
    if not isinstance(section, dict) or section.get("resource") is not True:
        return None
    name = str(section.get("name") or "")
    if not name:
        package = str(info.get("name") or "")
        if not package.startswith("@pulumi/"):
            return None  # a third-party package must name its plugin
        name = package.split("/", 1)[1]
    version = str(section.get("version") or info.get("version") or "")
    if not version:
        return None
    if not version.startswith("v"):
        version = "v" + version
    dependency = plugin_pb2.PackageDependency(
        name=name, kind="resource", version=version, server=str(section.get("server") or "")
    )
    try:
        parameterization = _parameterization(section.get("parameterization"), path)
        extension = _parameterization(section.get("extensionParameterization"), path)
    except (HostError, ValueError):
        return None
    if parameterization is not None:
        dependency.parameterization.CopyFrom(parameterization)
    if extension is not None:
        dependency.extension.CopyFrom(extension)
    return dependency


class NodejsHost(LanguageHost):
    language = "nodejs"
    # Where @pulumi/pulumi keeps its program runner; PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides.
    RUN = "@pulumi/pulumi/cmd/run"

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse(
            packages=node_packages(request.info.program_directory)
        )

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def GenerateProgram(self, request, context):
        # `pulumi import` in a TypeScript project: pkg/v3's TypeScript program generator.
        return self._sdkgen_request(
            "program", request, language_pb2.GenerateProgramResponse(), context
        )

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


class GoHost(LanguageHost):
    """Code generation for Go; programs run under Pulumi's own Go host (`make hosts`)."""

    language = "go"
    NOT_SERVED = (
        "this stand-in pulumi-language-go (make cli) only generates Go SDKs; run Go "
        'programs with Pulumi\'s Go host: PATH="$(tools/hosts/build.sh | tail -1):$PATH"'
    )

    def Run(self, request, context):
        return language_pb2.RunResponse(error=self.NOT_SERVED)


def _old_config_key(key: str) -> str:
    namespace, sep, name = key.partition(":")
    if not sep or name.startswith("config:"):
        return key
    return f"{namespace}:config:{name}"


HOSTS: dict[str, type[LanguageHost]] = {
    "python": PythonHost,
    "nodejs": NodejsHost,
    "go": GoHost,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", choices=sorted(HOSTS), default="python")
    parser.add_argument(
        "--sdkgen",
        type=Path,
        default=HERE / "pulumi-vpsbackup-sdkgen",
        help="the code generator built from sdkgen/ (build.sh passes the one of this source)",
    )
    parser.add_argument("engine", nargs="?", default="")
    args, _unknown = parser.parse_known_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    host = HOSTS[args.runtime](args.engine, args.sdkgen)
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
