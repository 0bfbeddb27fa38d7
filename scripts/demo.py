"""`make demo`: the quickstart example deployed against a local fake VPS.org API.

What it does:

0. with `--build-cli` (what `make demo` passes): puts the Pulumi CLI that
   `make cli` builds first on PATH; when it is not built yet and Go is
   installed, says so and how long the first build takes before building it
   (it compiles for minutes and prints little meanwhile);
1. starts the fake API (`python -m pulumi_vpsbackup.fake`) and waits for its URL;
2. with the Pulumi CLI on PATH: copies `examples/quickstart` to a temporary
   directory, uses a local file backend there (`PULUMI_BACKEND_URL=file://...`,
   passphrase secrets), creates a stack, sets `vpsbackup:apiUrl` and the secret
   `vpsbackup:apiToken`, runs `pulumi up --yes`, prints the stack outputs and
   the fake's listing of the server's backups, then `pulumi destroy --yes`;
3. without the CLI: says so, prints how to install it, and runs the same
   quickstart through the project's engine harness (`dev/vpsbackup_dev/engine.py`,
   the real SDK program runtime and provider host without the CLI), printing
   each plan and the outputs;
4. stops the fake.

`--keep` keeps the stack, its temporary directory and the fake's state file,
and prints the commands to continue by hand. The token is never printed.
Exit status: 0 on success, 1 when a step fails, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "quickstart"
SERVER_ID = 12345
STACK = "demo"
PASSPHRASE = "vpsbackup-demo-passphrase"  # noqa: S105 - protects a throwaway local demo stack
INSTALL_PAGE = "https://www.pulumi.com/docs/iac/download-install/"
INSTALL_COMMAND = "curl -fsSL https://get.pulumi.com | sh"
BUILD_SCRIPT = REPO / "tools" / "pulumi-cli" / "build.sh"
#: build.sh --if-built: the exit status for "not built yet" (nothing was built).
NOT_BUILT = 3
#: How long `make cli` takes the first time (measured: about 16 min on 2 cores).
FIRST_BUILD = "about 16 minutes on 2 cores, several minutes on a faster machine"


class DemoError(Exception):
    """A step failed; the message says which and why."""


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text}")


# ---- the fake ------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: ours (the virtualenv `make install` made,
    where `pulumi_vpsbackup` is installed editable) plus `extra`."""
    return {**os.environ, **extra}


@contextlib.contextmanager
def running_fake(
    port: int, token: str, state_file: Path | None, startup_timeout: float
) -> Iterator[str]:
    """Start the fake as a subprocess (the fake's own launcher); yield its API URL; stop it."""
    from pulumi_vpsbackup.fake.launch import FakeStartError, launch

    # Backups take two seconds, so `pulumi up` shows the wait without dragging.
    options = ["--backup-seconds", "2"]
    if state_file is not None:
        options += ["--state-file", str(state_file)]
    try:
        fake = launch(
            *options, port=port, token=token, env=child_env(), cwd=REPO, timeout=startup_timeout
        )
    except FakeStartError as exc:
        hint = ""
        if "in use" in exc.stderr or "Errno 98" in exc.stderr:
            hint = f" Port {port} is taken: stop what uses it or run with --port 0."
        raise DemoError(f"{exc}.{hint}") from None
    with fake:
        yield fake.url


def fetch_backups(url: str, token: str, server_id: int) -> list[dict[str, Any]]:
    """What the fake itself holds: GET /backups/?server_id=..., as curl would."""
    request = urllib.request.Request(  # noqa: S310 - the fake's http:// URL on loopback
        f"{url}/backups/?server_id={server_id}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DemoError(f"could not list the fake's backups: {exc}") from exc
    return list(body.get("results", []))


def show_listing(url: str, token: str, server_id: int) -> list[dict[str, Any]]:
    heading(f"The fake API's own view: GET {url}/backups/?server_id={server_id}")
    say(
        '   (curl -H "Authorization: Bearer $VPS_API_TOKEN" '
        f"'{url}/backups/?server_id={server_id}')"
    )
    rows = fetch_backups(url, token, server_id)
    say(f"   {'id':>5}  {'type':<9}  {'status':<11}  {'size_mb':>7}  description")
    for row in rows:
        size = row.get("size_mb")
        say(
            f"   {row.get('id'):>5}  {row.get('backup_type', ''):<9}  "
            f"{row.get('status', ''):<11}  {'' if size is None else size:>7}  "
            f"{row.get('description') or ''}"
        )
    return rows


# ---- the CLI that `make cli` builds ----------------------------------------------------


def built_cli(script: Path = BUILD_SCRIPT) -> str | None:
    """The directory of the CLI that `make cli` builds (its build.sh prints it last).

    Built already: reused, silently. Not built yet: says so, and how long the
    first build takes, before building it, so that minutes of silence from
    the Go compiler do not look like a hang. Without Go, or when the build
    fails: None (the demo then runs with any `pulumi` on PATH, or without).
    """
    if shutil.which("go") is None:
        return None
    found = subprocess.run(  # noqa: S603 - our own build script
        [str(script), "--if-built"], capture_output=True, text=True, check=False
    )
    if found.returncode == 0:
        return _last_line(found.stdout)
    if found.returncode != NOT_BUILT:
        say(f"   (cannot use `make cli`: {_last_line(found.stderr) or found.returncode})")
        return None
    heading("Building the Pulumi CLI first (`make cli`); later runs reuse it")
    say(f"   It is not built yet. The first build takes {FIRST_BUILD}:")
    say("   Go compiles Pulumi from source and prints little meanwhile. It has not hung.")
    say("   (Ctrl-C stops it; `make demo` then runs again from the start.)")
    built = subprocess.run(  # noqa: S603 - stderr (Go's progress) goes to the terminal
        [str(script)], stdout=subprocess.PIPE, text=True, check=False
    )
    if built.returncode != 0:
        say(f"   The build failed (exit {built.returncode}); going on without it.")
        return None
    return _last_line(built.stdout)


def _last_line(text: str) -> str | None:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


# ---- with the Pulumi CLI ---------------------------------------------------------------


def prepare_project(workdir: Path) -> Path:
    """A copy of the quickstart whose virtualenv path is absolute (the copy lives elsewhere)."""
    import yaml  # pulumi depends on PyYAML

    project = workdir / "quickstart"
    project.mkdir(parents=True)
    shutil.copy2(EXAMPLE / "__main__.py", project / "__main__.py")
    settings = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text(encoding="utf-8"))
    venv = Path(sys.prefix)
    settings["runtime"]["options"]["virtualenv"] = str(venv)
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return project


def run_pulumi(
    pulumi: str, args: Sequence[str], cwd: Path, env: dict[str, str], shown: str | None = None
) -> str:
    """Run one pulumi command, streaming its output; raise DemoError on failure."""
    say(f"$ pulumi {shown if shown is not None else ' '.join(args)}")
    proc = subprocess.Popen(  # noqa: S603 - the pulumi CLI found on PATH
        [pulumi, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    captured: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        captured.append(line)
        sys.stdout.write(line)
    sys.stdout.flush()
    if proc.wait() != 0:
        raise DemoError(f"`pulumi {shown or args[0]}` failed with status {proc.returncode}")
    return "".join(captured)


def stack_outputs(pulumi: str, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """`pulumi stack output --json`, parsed from stdout alone (stderr may carry notices)."""
    say("$ pulumi stack output --json")
    done = subprocess.run(  # noqa: S603 - the pulumi CLI found on PATH
        [pulumi, "stack", "output", "--json"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise DemoError(f"`pulumi stack output` failed with status {done.returncode}")
    say(done.stdout.rstrip())
    try:
        outputs = json.loads(done.stdout or "{}")
    except ValueError as exc:
        raise DemoError(f"`pulumi stack output --json` printed something else: {exc}") from exc
    if not isinstance(outputs, dict):
        raise DemoError("`pulumi stack output --json` did not print an object")
    return outputs


def demo_with_cli(pulumi: str, url: str, token: str, workdir: Path, keep: bool) -> None:
    project = prepare_project(workdir)
    state = workdir / "state"
    state.mkdir()
    env = child_env(
        PULUMI_BACKEND_URL=state.as_uri(),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK="true",
        # Every plugin this demo needs is beside `pulumi`; never download one.
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_HOME=os.environ.get("PULUMI_HOME", str(Path.home() / ".pulumi")),
    )
    env.pop("PULUMI_ACCESS_TOKEN", None)  # a file backend; never talk to Pulumi Cloud here
    env.pop("VPS_API_TOKEN", None)  # the stack's secret config is what this demo shows

    heading(f"Stack '{STACK}' of examples/quickstart, state in {state}")
    run_pulumi(pulumi, ["stack", "init", STACK, "--secrets-provider", "passphrase"], project, env)
    run_pulumi(pulumi, ["config", "set", "vpsbackup:apiUrl", url], project, env)
    run_pulumi(
        pulumi,
        ["config", "set", "--secret", "vpsbackup:apiToken", token],
        project,
        env,
        shown="config set --secret vpsbackup:apiToken ********",
    )

    heading("Deploy")
    run_pulumi(pulumi, ["up", "--yes", "--color", "never"], project, env)
    outputs = stack_outputs(pulumi, project, env)
    backup_id = outputs.get("backupId")

    rows = show_listing(url, token, SERVER_ID)
    if backup_id is not None and all(r.get("id") != backup_id for r in rows):
        raise DemoError(f"backup {backup_id} from the stack outputs is not in the fake's listing")

    if keep:
        _print_keep_instructions(project, state, workdir)
        return
    heading("Clean up")
    run_pulumi(pulumi, ["destroy", "--yes", "--color", "never"], project, env)
    rows = show_listing(url, token, SERVER_ID)
    if backup_id is not None and any(r.get("id") == backup_id for r in rows):
        raise DemoError(f"backup {backup_id} is still on the fake after `pulumi destroy`")
    run_pulumi(pulumi, ["stack", "rm", "--yes", STACK], project, env)


def _print_keep_instructions(project: Path, state: Path, workdir: Path) -> None:
    heading("Kept: the stack, its state and the fake's world")
    say(f"   Everything is under {workdir}. The fake stops now; its world is saved. To go on:")
    say(
        f"     .venv/bin/python -m pulumi_vpsbackup.fake --port <port> --token <token> "
        f"--state-file {workdir / 'fake-state.json'}"
    )
    say(f"     cd {project}")
    say(f"     export PULUMI_BACKEND_URL={state.as_uri()} PULUMI_CONFIG_PASSPHRASE={PASSPHRASE}")
    say("     pulumi config set vpsbackup:apiUrl <the fake's URL>   # if the port changed")
    say("     pulumi destroy --yes && pulumi stack rm --yes demo")


# ---- without the Pulumi CLI ------------------------------------------------------------


def print_cli_missing() -> None:
    heading("The Pulumi CLI is not installed (no `pulumi` on PATH)")
    say("   To deploy the examples with Pulumi itself, install the CLI:")
    say(f"     {INSTALL_COMMAND}")
    say("   or, in this repository, build the version the tests use: `make cli` (needs Go).")
    say(f"   or see {INSTALL_PAGE} (Homebrew, Windows, Docker, ...).")
    say("   Then run `make demo` again.")
    say()
    say("   Meanwhile, here is the same quickstart WITHOUT THE PULUMI CLI: the project's")
    say("   engine harness (dev/vpsbackup_dev/engine.py) runs the program with the real Pulumi")
    say("   SDK and the real dynamic-provider host, the way the CLI would, against the fake.")


def demo_without_cli(url: str, token: str, workdir: Path, keep: bool) -> None:
    try:
        from vpsbackup_dev.engine import Engine, EngineError
    except ImportError as exc:
        raise DemoError(
            f"the engine harness (dev/vpsbackup_dev/engine.py) cannot be imported: {exc}; "
            "`make install` installs it"
        ) from exc
    import yaml

    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    state = workdir / "harness-state.json"
    engine = Engine(
        state,
        project=project,
        stack=STACK,
        config={"vpsbackup:apiUrl": url, "vpsbackup:apiToken": token},
        secret_keys={"vpsbackup:apiToken"},
        program=EXAMPLE,
    )
    try:
        heading("Preview (without the Pulumi CLI)")
        show_result(engine.preview(), token)
        heading("Deploy (without the Pulumi CLI)")
        result = engine.up()
        show_result(result, token)
        backup_id = result.outputs.get("backupId")
        rows = show_listing(url, token, SERVER_ID)
        if backup_id is None or all(r.get("id") != backup_id for r in rows):
            raise DemoError(f"backup {backup_id} from the outputs is not in the fake's listing")
        if keep:
            heading("Kept")
            say(f"   The harness state is {state}; the fake's world is in")
            say(f"   {workdir / 'fake-state.json'}. Nothing was destroyed.")
            return
        heading("Destroy (without the Pulumi CLI)")
        show_result(engine.destroy(), token)
        rows = show_listing(url, token, SERVER_ID)
        if any(r.get("id") == backup_id for r in rows):
            raise DemoError(f"backup {backup_id} is still on the fake after destroy")
    except EngineError as exc:
        raise DemoError(f"{exc}\n{exc.details}") from exc


SIGNS = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "delete": "-",
    "delete-replaced": "--",
    "same": " ",
    "refresh": "~",
}


def show_result(result: Any, token: str) -> None:
    """The plan or the steps taken, the provider's messages and the outputs."""
    for step in result.steps:
        say(f"   {SIGNS.get(step.op, '?'):>2} {step.op:<16} {step.type:<40} {step.name}")
    say(f"   Resources: {', '.join(result.summary) or 'no changes'}")
    messages = [
        line
        for line in result.host_output.splitlines()
        if line.startswith("vpsbackup:") and token not in line
    ]
    for line in messages:
        say(f"   {line}")
    if result.outputs:
        say("   Outputs:")
        for key, value in sorted(result.outputs.items()):
            say(f"     {key}: {format_value(value)}")


def format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if type(value).__name__ == "Unknown":
        return "(known after deploy)"
    return json.dumps(value) if isinstance(value, str) else str(value)


# ---- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/demo.py",
        description="Deploy examples/quickstart against a local fake VPS.org API, then clean up.",
    )
    parser.add_argument("--port", type=int, default=8787, help="the fake's port (0: any free)")
    parser.add_argument(
        "--token",
        default=os.environ.get("VPS_FAKE_TOKEN", "vps_demo_token"),
        help="the fake's API token (never printed)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the stack and the fake's world; print how"
    )
    parser.add_argument(
        "--no-cli",
        action="store_true",
        help="run without the Pulumi CLI even when it is installed (the engine harness)",
    )
    parser.add_argument(
        "--build-cli",
        action="store_true",
        help="put the CLI that `make cli` builds first on PATH, building it first if needed",
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=30.0, help="seconds to wait for the fake"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if not args.token:
        parser.error("--token must not be empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.build_cli and not args.no_cli:
        cli = built_cli()
        if cli is not None:
            os.environ["PATH"] = os.pathsep.join([cli, os.environ.get("PATH", "")])
    pulumi = None if args.no_cli else shutil.which("pulumi")
    workdir = Path(tempfile.mkdtemp(prefix="vpsbackup-demo-"))
    state_file = workdir / "fake-state.json" if args.keep else None
    ok = False
    try:
        heading("Starting the fake VPS.org API")
        with running_fake(args.port, args.token, state_file, args.startup_timeout) as url:
            say(f"   {url}  (servers 12345 web-server-01, 12346 db-server-01)")
            show_listing(url, args.token, SERVER_ID)
            if pulumi is not None:
                demo_with_cli(pulumi, url, args.token, workdir, args.keep)
            else:
                if not args.no_cli:
                    print_cli_missing()
                demo_without_cli(url, args.token, workdir, args.keep)
        heading("Done: the fake API is stopped")
        ok = True
        return 0
    except DemoError as exc:
        say()
        say(f"demo failed: {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - report any other failure plainly, status 1
        say()
        say(f"demo failed unexpectedly: {type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt:
        say()
        say("demo interrupted")
        return 130
    finally:
        if args.keep and ok:
            pass
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
