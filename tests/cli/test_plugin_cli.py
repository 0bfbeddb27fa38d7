"""The native provider plugin `pulumi-resource-vpsbackup` under the real CLI.

Each test is one thing a dynamic provider cannot do: `pulumi import`, custom
timeouts, explicit providers with their own accounts, many backups waited for
at once, one-line errors, and a preview that touches nothing. The programs
declare the resources by type token (`pulumi.CustomResource("vpsbackup:index:
Backup", ...)`), as a generated SDK does; the engine finds the plugin on PATH
(the virtualenv's `bin`, where `pip install` put the console script).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin.provider import IDENTITY_KEY
from tests.cli.conftest import Projects
from tests.cli.test_cli_text import diagnostics
from tests.programs.scenarios import TOKEN, backups
from vpsbackup_dev.cli_project import CliProject

pytestmark = pytest.mark.cli

BACKUP = "vpsbackup:index:Backup"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
TOKEN_B = "vps_plugin_second_account_5e0c"
PLUGIN = "pulumi-resource-vpsbackup"
BIN = Path(sys.executable).parent

Make = Callable[..., CliProject]

HEADER = """\
import pulumi

def backup(name, props, **opts):
    return pulumi.CustomResource(
        "vpsbackup:index:Backup", name,
        {"backupId": None, "status": None, "serverName": None, **props},
        pulumi.ResourceOptions(**opts),
    )
"""


@pytest.fixture(scope="module")
def plugin_on_path() -> str:
    """The console script, as `pip install` put it next to this interpreter."""
    path = BIN / PLUGIN
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make install` (it installs the console script)")
    return str(path)


def slow_fake(**behaviour: Any) -> FakeVps:
    """A fake whose backups take `backup_seconds` of real time."""
    return FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", **behaviour)


@pytest.fixture
def native_project(
    tmp_path: Path, plugin_on_path: str, pulumi_cli: str, cli_home: Path
) -> Iterator[Callable[..., CliProject]]:
    """Projects whose stack config points the default vpsbackup provider at `api_url`."""
    projects = Projects(tmp_path, cli_home, path_first=BIN)

    def make(program: str, api_url: str, *, name: str = "plugin-test", **config: str) -> CliProject:
        project = projects.make(name, HEADER + program, api_url, TOKEN)
        for key, value in config.items():
            project.config(f"vpsbackup:{key}", value)
        return project

    yield make
    projects.close()


@pytest.fixture
def quick_fake() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0)
    with serve(app) as server:
        yield server


def state_resources(project: CliProject, type_: str = BACKUP) -> dict[str, dict[str, Any]]:
    exported = json.loads(project.export())
    return {
        r["urn"].rsplit("::", 1)[1]: r
        for r in exported["deployment"].get("resources", [])
        if r["type"] == type_
    }


def error_lines(text: str) -> list[str]:
    """The lines the CLI prints under `error:` for a resource."""
    return [line.strip() for line in text.splitlines() if "error:" in line]


# ---- the engine finds and runs the plugin ------------------------------------------


def test_plugin_reports_its_version_and_schema(plugin_on_path: str) -> None:
    import subprocess

    out = subprocess.run(
        [plugin_on_path, "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out)["name"] == "vpsbackup"
    schema = json.loads(
        subprocess.run(
            [plugin_on_path, "--schema"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert set(schema["resources"]) == {
        BACKUP,
        "vpsbackup:index:Restore",
        "vpsbackup:index:BackupRotation",
        "vpsbackup:index:BackupFleet",
    }


def test_up_refresh_destroy_through_the_plugin(
    native_project: Make, quick_fake: FakeServer
) -> None:
    before = set(backups(quick_fake.app))
    project = native_project(
        """
b = backup("b", {"serverId": 12345, "description": "native"})
found = pulumi.Output.from_input(pulumi.runtime.invoke(
    "vpsbackup:index:getBackups", {"serverId": 12345, "backupType": "manual"}
).value)
pulumi.export("id", b.id)
pulumi.export("status", b.status)
pulumi.export("descriptions", found.apply(lambda r: [x.get("description") for x in r["backups"]]))
""",
        quick_fake.url,
    )
    project.up()
    made = sorted(set(backups(quick_fake.app)) - before)
    outputs = project.outputs()
    assert [int(outputs["id"])] == made, outputs
    assert outputs["status"] == "completed"
    # The invoke lists the demo world's manual backup of the server; it races the
    # create of `b` (the engine runs both once the provider is configured), so
    # the new backup may be listed too (both orders seen under load).
    descriptions = outputs["descriptions"]
    assert "Pre-update backup" in descriptions, "getBackups served by the plugin"
    assert set(descriptions) - {"Pre-update backup"} <= {"native"}, descriptions
    assert backups(quick_fake.app)[made[0]]["description"].startswith("native")
    assert "\\[pvb:" not in json.dumps(outputs)
    export = project.export()
    assert TOKEN not in export, "the token is nowhere in state"
    project.run("refresh", "--yes", "--skip-preview")
    assert "b" in state_resources(project)
    project.run("destroy", "--yes", "--skip-preview")
    assert made[0] not in backups(quick_fake.app)


# ---- 1. pulumi import ----------------------------------------------------------------


def test_pulumi_import_reads_an_existing_backup_by_id(
    native_project: Make, quick_fake: FakeServer
) -> None:
    project = native_project("", quick_fake.url)
    ran = project.run("import", BACKUP, "old", "499", "--yes", "--generate-code=false")
    assert ran.code == 0, str(ran)
    held = state_resources(project)["old"]
    assert held["id"] == "499"
    assert held["inputs"]["serverId"] == 12345
    assert held["inputs"]["description"] == "Pre-update backup"
    assert held["outputs"]["backupType"] == "manual"
    assert held["outputs"]["status"] == "completed"
    # A later refresh keeps it: it exists.
    project.run("refresh", "--yes", "--skip-preview")
    assert "old" in state_resources(project)
    # Forgetting it leaves the backup where it was.
    project.run("state", "delete", held["urn"], "--yes", "--force")
    assert 499 in backups(quick_fake.app)


def test_pulumi_import_of_a_missing_backup_says_so(
    native_project: Make, quick_fake: FakeServer
) -> None:
    project = native_project("", quick_fake.url)
    ran = project.run(
        "import", BACKUP, "ghost", "987654", "--yes", "--generate-code=false", ok=False
    )
    assert ran.code != 0
    assert "backup 987654 was not found with this provider's account" in ran.out, ran.out
    assert "Traceback" not in ran.out
    assert state_resources(project) == {}


def test_pulumi_import_of_an_automatic_backup_is_refused_and_destroy_leaves_it(
    native_project: Make, quick_fake: FakeServer
) -> None:
    """Import is manual-only: an imported backup is managed, and destroy deletes what it
    manages, so VPS.org's own daily backup must never enter the stack."""
    automatic = min(
        i for i, b in backups(quick_fake.app).items() if b["backup_type"] == "automatic"
    )
    project = native_project("", quick_fake.url)
    ran = project.run(
        "import", BACKUP, "auto", str(automatic), "--yes", "--generate-code=false", ok=False
    )
    assert ran.code != 0, str(ran)
    assert f"backup {automatic} is automatic" in ran.out, ran.out
    assert "only manual backups can be imported" in ran.out, ran.out
    assert "Traceback" not in ran.out
    assert state_resources(project) == {}
    project.run("destroy", "--yes", "--skip-preview")
    assert automatic in backups(quick_fake.app), "the automatic backup is still there"


# ---- 2. custom timeouts, 5. one-line errors ----------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[FakeServer]:
    """Backups take 30 s of real time; a running backup can be deleted."""
    with serve(slow_fake(backup_seconds=30, delete_in_progress="allow")) as server:
        yield server


def test_custom_timeout_bounds_create_and_the_error_is_one_line(
    native_project: Make, slow_server: FakeServer
) -> None:
    before = set(backups(slow_server.app))
    project = native_project(
        """
backup("b", {"serverId": 12345, "description": "too slow"},
       custom_timeouts=pulumi.CustomTimeouts(create="2s"))
""",
        slow_server.url,
        pollInterval="0.2",
    )
    started = time.monotonic()
    ran = project.up(ok=False)
    took = time.monotonic() - started
    assert ran.code != 0
    lines = error_lines(ran.out)
    ours = [line for line in lines if "vpsbackup:index:Backup" in line or "still" in line]
    assert ours, ran.out
    assert "Traceback" not in ran.out, ran.out
    # The first line says what happened, that nothing is left, and what to do.
    assert re.search(r"still in_progress after 2(\.0)? ?s\b", ran.out), ran.out
    assert "nothing was recorded in state" in ran.out
    assert "customTimeouts.create" in ran.out
    print(f"\n--- CLI text of the failed create ({took:.1f}s for the whole `pulumi up`) ---")
    print(ran.out)
    # Bounded by the 2 s, not by the 30 s backup or the 60 min default.
    assert took < 25, f"`pulumi up` took {took:.1f}s"
    assert set(backups(slow_server.app)) == before, "the timed-out backup was deleted"
    assert state_resources(project) == {}


def test_a_waiting_create_shows_its_progress_on_the_resources_row(
    native_project: Make, tmp_path: Path
) -> None:
    """The plugin's progress reaches the engine as ephemeral status messages with the
    backup's URN: `--non-interactive` prints each on the resource's row as
    it comes, the event log carries it with the URN, the summary leaves it out."""
    events = tmp_path / "events.jsonl"
    with serve(slow_fake(backup_seconds=3)) as server:
        project = native_project(
            'backup("b", {"serverId": 12345, "description": "progress"})\n',
            server.url,
            pollInterval="0.5",
        )
        project.env["PULUMI_DEBUG_COMMANDS"] = "true"  # what shows `--event-log`
        ran = project.up("--event-log", str(events))
    print(ran.out)
    row = re.compile(
        rf"{BACKUP} b creating \(\d+s\) backup \d+ of server 12345 is in_progress after \d+s"
    )
    rows = [i for i, line in enumerate(ran.out.splitlines()) if row.search(line)]
    created = [i for i, line in enumerate(ran.out.splitlines()) if f"{BACKUP} b created" in line]
    assert rows and created and rows[0] < created[0], ran.out
    summary = (
        ran.out.split("Resources:")[0].split("Diagnostics:")[-1]
        if "Diagnostics:" in ran.out
        else ""
    )
    assert "in_progress after" not in summary, "a status message is not kept for the summary"
    logged = [json.loads(line) for line in events.read_text("utf-8").splitlines() if line]
    diags = [e["diagnosticEvent"] for e in logged if "diagnosticEvent" in e]
    status = [d for d in diags if "in_progress after" in d["message"]]
    assert status, diags
    for diag in status:
        assert diag["urn"].endswith(f"::{BACKUP}::b"), diag
        assert diag.get("ephemeral") is True, diag
        assert diag["severity"] == "info", diag
    assert TOKEN not in events.read_text("utf-8") and TOKEN not in ran.out


def test_a_full_server_warns_under_the_backup_at_preview(
    native_project: Make, quick_fake: FakeServer
) -> None:
    """The warning reaches the user as a diagnostic: the engine hides a plugin's stderr."""
    for i in range(10):
        quick_fake.app.seed_backup(server_id=12346, backup_type="manual", description=f"kept {i}")
    project = native_project('backup("b", {"serverId": 12346})\n', quick_fake.url)
    ran = project.preview()
    block = diagnostics(ran.out, BACKUP, "b")
    assert block, ran.out
    assert block[0].startswith(
        "warning: server 12346 (db-server-01) already has 10 manual backups"
    ), ran.out
    assert "the deleteBeforeReplace resource option" in block[0]


def test_custom_timeout_bounds_delete_of_a_running_backup(
    native_project: Make, tmp_path: Path
) -> None:
    with serve(slow_fake(backup_seconds=60, delete_in_progress="reject")) as server:
        project = native_project(
            """
backup("b", {"serverId": 12345, "waitForCompletion": False},
       custom_timeouts=pulumi.CustomTimeouts(delete="2s"))
""",
            server.url,
            pollInterval="0.2",
        )
        project.up()
        held = state_resources(project)["b"]
        assert held["outputs"]["status"] == "in_progress"
        started = time.monotonic()
        ran = project.run("destroy", "--yes", "--skip-preview", ok=False)
        took = time.monotonic() - started
        assert ran.code != 0
        assert "Traceback" not in ran.out, ran.out
        assert f"backup {held['id']}" in ran.out.lower() or held["id"] in ran.out, ran.out
        assert took < 25, f"`pulumi destroy` took {took:.1f}s"
        assert "b" in state_resources(project), "a backup not deleted stays in state"
        # Let it finish, then the destroy goes through (and the fixture's teardown is clean).
        server.app.advance(120)
        project.run("destroy", "--yes", "--skip-preview")
        assert int(held["id"]) not in backups(server.app)


# ---- 3. two explicit providers, two accounts -------------------------------------------

TWO_ACCOUNTS = """
config = pulumi.Config()
a = pulumi.ProviderResource("vpsbackup", "account-a", {
    "apiUrl": config.require("urlA"), "apiToken": config.require_secret("tokenA")})
b = pulumi.ProviderResource("vpsbackup", "account-b", {
    "apiUrl": config.require("urlB"), "apiToken": config.require_secret("tokenB")})
in_a = backup("in-a", {"serverId": 12345, "description": "account a"}, provider=a)
in_b = backup("in-b", {"serverId": 12345, "description": "account b"}, provider=b)
listed = pulumi.runtime.invoke(
    "vpsbackup:index:getBackups", {"serverId": 12345, "backupType": "manual"},
    pulumi.InvokeOptions(provider=b)).value
pulumi.export("a", in_a.id)
pulumi.export("b", in_b.id)
pulumi.export("bManual", [x.get("description") for x in listed["backups"]])
"""


def test_two_explicit_providers_use_two_accounts_with_secret_tokens(
    native_project: Make, quick_fake: FakeServer
) -> None:
    app_b = FakeVps(
        token=TOKEN_B, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0
    )
    with serve(app_b) as fake_b:
        # Only account B holds this one: the query through provider b must list it.
        app_b.seed_backup(server_id=12345, description="only in account b")
        before_a, before_b = set(backups(quick_fake.app)), set(backups(app_b))
        # The stack's own settings point nowhere useful: only the explicit providers work.
        project = native_project(TWO_ACCOUNTS, "http://127.0.0.1:9/api/v1")
        project.config("urlA", quick_fake.url)
        project.config("tokenA", TOKEN, secret=True)
        project.config("urlB", fake_b.url)
        project.config("tokenB", TOKEN_B, secret=True)
        project.up()
        outputs = project.outputs()
        made_a = sorted(set(backups(quick_fake.app)) - before_a)
        made_b = sorted(set(backups(app_b)) - before_b)
        assert made_a == [int(outputs["a"])] and made_b == [int(outputs["b"])], outputs
        assert backups(app_b)[made_b[0]]["description"].startswith("account b")
        assert "only in account b" in outputs["bManual"], outputs

        export = project.export()
        assert TOKEN not in export and TOKEN_B not in export, "no token in plain text in state"
        providers = {
            r["urn"].rsplit("::", 1)[1]: r
            for r in json.loads(export)["deployment"]["resources"]
            if r["type"] == "pulumi:providers:vpsbackup"
        }
        assert {"account-a", "account-b"} <= set(providers)
        for held in (providers["account-a"], providers["account-b"]):
            assert held["inputs"]["apiToken"][SECRET_SIG], held
            assert "apiToken" not in held.get("outputs", {}) or held["outputs"]["apiToken"].get(
                SECRET_SIG
            )
        for name in ("in-a", "in-b"):
            assert "apiToken" not in json.dumps(state_resources(project)[name])

        project.run("destroy", "--yes", "--skip-preview")
        assert set(backups(quick_fake.app)) == before_a and set(backups(app_b)) == before_b


EXPLICIT_WITHOUT_TOKEN = """
p = pulumi.ProviderResource("vpsbackup", "account-b", {"apiUrl": pulumi.Config().require("urlB")})
backup("in-b", {"serverId": 12345, "description": "account b"}, provider=p)
"""


def test_an_explicit_provider_without_a_token_never_takes_the_environments(
    native_project: Make, quick_fake: FakeServer
) -> None:
    """Credentials never cross accounts: VPS_API_TOKEN is not sent to the URL
    an explicit provider names; the error names the provider and the missing apiToken."""
    app_b = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate")
    with serve(app_b) as fake_b:
        project = native_project(EXPLICIT_WITHOUT_TOKEN, quick_fake.url)
        project.config("urlB", fake_b.url)
        # The environment's token is one fake B would accept: sent, the backup would be made.
        project.env["VPS_API_TOKEN"] = TOKEN
        ran = project.up(ok=False)
        assert ran.code != 0, str(ran)
        assert "account-b" in ran.out and "no apiToken" in ran.out, ran.out
        assert "VPS_API_TOKEN" in ran.out, ran.out
        assert "Traceback" not in ran.out
        assert app_b.requests() == [], "fake B received no request at all"
        assert "in-b" not in state_resources(project)


# ---- 6. preview touches nothing ------------------------------------------------------------


def test_preview_creates_and_updates_nothing(native_project: Make, quick_fake: FakeServer) -> None:
    program = """
b = backup("b", {"serverId": 12345, "description": "previewed", "waitForCompletion": %s})
pulumi.export("server", b.serverName)
"""
    project = native_project(program % "True", quick_fake.url)
    quick_fake.app.clear_requests()
    ran = project.preview()
    writes = [r for r in quick_fake.app.requests() if r["method"] not in ("GET", "HEAD")]
    assert writes == [], writes
    assert "+  vpsbackup:index:Backup b create" in ran.out, ran.out
    assert state_resources(project) == {}

    project.up()
    held = state_resources(project)["b"]
    project.write(HEADER + program % "False")
    quick_fake.app.clear_requests()
    ran = project.preview("--diff")
    writes = [r for r in quick_fake.app.requests() if r["method"] not in ("GET", "HEAD")]
    assert writes == [], writes
    assert "~ 1 to update" in ran.out, ran.out
    assert re.search(r"~ waitForCompletion\s*: true => false", ran.out), ran.out
    assert state_resources(project)["b"]["outputs"] == held["outputs"]


# ---- 4. a fleet of backups waited for at once ---------------------------------------------

FLEET_SERVERS = 16
FLEET_PER_SERVER = 4
FLEET_SECONDS = 15.0  # T: how long each backup takes on the fake

FLEET = f"""
for s in range({FLEET_SERVERS}):
    for k in range({FLEET_PER_SERVER}):
        backup(f"b{{s}}-{{k}}", {{"serverId": 30001 + s, "description": f"fleet {{k}}"}})
"""


@pytest.mark.slow
def test_sixty_four_backups_are_waited_for_at_once(native_project: Make) -> None:
    app = slow_fake(backup_seconds=FLEET_SECONDS)
    for s in range(FLEET_SERVERS):
        app.add_server(id=30001 + s, name=f"fleet-{s:02d}")
    with serve(app) as server:
        project = native_project(FLEET, server.url, pollInterval="0.5", maxPollInterval="1")
        parallel = str(FLEET_SERVERS * FLEET_PER_SERVER)
        started = time.monotonic()
        project.up("--parallel", parallel)
        fleet = time.monotonic() - started
        held = state_resources(project)
        assert len(held) == FLEET_SERVERS * FLEET_PER_SERVER
        assert {r["outputs"]["status"] for r in held.values()} == {"completed"}
        # The same program again changes nothing: what the CLI, program and engine cost.
        started = time.monotonic()
        project.up("--parallel", parallel)
        baseline = time.monotonic() - started
        waited = fleet - baseline
        print(
            f"\nfleet: {len(held)} backups of T={FLEET_SECONDS:.0f}s on {FLEET_SERVERS} servers: "
            f"`pulumi up` {fleet:.1f}s, a no-change `pulumi up` {baseline:.1f}s, "
            f"difference {waited:.1f}s = {waited / FLEET_SECONDS:.2f} T"
        )
        # Waited for at once: about T, where four at a time would be 16 T.
        assert waited < 2 * FLEET_SECONDS, (fleet, baseline)
        project.run("destroy", "--yes", "--skip-preview", "--parallel", parallel)
        left = [i for i, b in backups(app).items() if (b["description"] or "").startswith("fleet")]
        assert left == [], left


# ---- whose backup: the stack identity in the provider's state ----------------------------


def test_the_same_stack_on_another_backend_never_takes_this_ones_backup(
    tmp_path: Path, plugin_on_path: str, pulumi_cli: str, cli_home: Path, quick_fake: FakeServer
) -> None:
    """Same project, stack and resource names on two backends: the provider of
    each keeps its own identity in state, so neither adopts nor deletes the
    other's backup."""
    program = HEADER + 'backup("b", {"serverId": 12345, "description": "nightly"})\n'
    backends = []
    try:
        for root in (tmp_path / "mine", tmp_path / "theirs"):
            root.mkdir()
            backends.append(Projects(root, cli_home, path_first=BIN))
        mine, theirs = (b.make("plugin-test", program, quick_fake.url, TOKEN) for b in backends)
        mine.up()
        my_backup = int(state_resources(mine)["b"]["id"])
        theirs.up()
        their_backup = int(state_resources(theirs)["b"]["id"])
        assert their_backup != my_backup, "the other backend's stack took this one's backup"
        providers = [
            r
            for r in json.loads(theirs.export())["deployment"]["resources"]
            if r["type"] == "pulumi:providers:vpsbackup"
        ]
        assert len(providers) == 1 and len(providers[0]["inputs"][IDENTITY_KEY]) == 32
        theirs.run("destroy", "--yes", "--skip-preview")
        assert my_backup in backups(quick_fake.app), "its destroy deleted this one's backup"
        mine.run("preview", "--expect-no-changes")
    finally:
        for backend in backends:
            backend.close()
