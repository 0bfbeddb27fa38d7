"""A query's error under the real CLI reads like a resource's: one message, no traceback.

The queries (`get_backups`, `get_latest_backup`, `wait_for_backups` and their
`_output` forms) run in the program's own process. Pulumi's program runner
(`pulumi-language-python-exec`) prints a `pulumi.RunError` as its message
alone; any other exception as "Program failed with an unhandled exception:"
and a traceback of about 30 lines.

In `--non-interactive` mode the CLI prints each diagnostic twice by design:
on the stack's progress row as it arrives, and in the "Diagnostics:" section
at the end. "Once" is about that section: the stack's block holds our line
and the engine's own line for a program that exited with code 1 (as for
Pulumi's own `RunError`s, e.g. a missing `config.require` value).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import pytest

from tests.cli.test_cli_text import diagnostics
from tests.programs.scenarios import TOKEN
from vpsbackup_dev.cli_project import CliProject, Ran

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]

NO_TOKEN = "No VPS.org API token is configured"
FIX_TOKEN = "pulumi config set --secret vpsbackup:apiToken"
# What the engine adds when a Python program exits with code 1 (the runner's
# code after a RunError); the official host says "program", ours "Program".
EXITED = re.compile(
    r"^error: an unhandled error occurred: program exited with non-zero exit code: 1$", re.I
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def program(call: str) -> str:
    return f"""
        import pulumi
        import pulumi_vpsbackup as vps
        pulumi.export("found", {call})
    """


def assert_one_message(ran: Ran, *needles: str) -> str:
    """The run failed, and printed the error once, as one line, without a traceback."""
    print(ran)  # `pytest -s` shows what users read
    assert ran.code != 0, str(ran)
    assert "Traceback" not in ran.out and 'File "' not in ran.out, str(ran)
    assert "unhandled exception" not in ran.out, str(ran)
    block = diagnostics(ran.out, "pulumi:pulumi:Stack", "cli-test-test")
    ours = [line for line in block if needles[0] in line]
    assert len(ours) == 1, f"shown {len(ours)} times in the stack's diagnostics:\n{ran}"
    assert [m for m in block if m not in ours and not EXITED.match(m)] == [], str(ran)
    line = ours[0]
    assert line.startswith(f"error: {needles[0]}"), line
    for needle in needles[1:]:
        assert needle in line, f"{needle!r} not in: {line}"
    assert TOKEN not in ran.out
    return line


@pytest.mark.parametrize(
    "call",
    [
        "vps.get_backups(server_id=12345).ids",
        "vps.get_latest_backup_output(server_id=12345).id",
        # An input of a resource: the error reaches the program through its registration.
        'vps.Backup("b", server_id=vps.get_backups_output(server_id=12345).ids[0]).id',
    ],
    ids=["get_backups", "get_latest_backup_output", "get_backups_output-as-an-input"],
)
def test_a_query_without_a_token_fails_with_one_message_naming_the_fix(
    cli_project: Make, call: str
) -> None:
    project = cli_project(program(call), token="")
    query = re.findall(r"vps\.(get_\w+)\(", call)[0]
    assert_one_message(project.preview(ok=False), f"{query}: {NO_TOKEN}", FIX_TOKEN)


def test_a_query_at_a_wrong_url_fails_with_one_message_naming_the_host_and_setting(
    cli_project: Make,
) -> None:
    project = cli_project(program("vps.wait_for_backups([499], timeout='30s')[0].id"))
    port = closed_port()
    project.config("vpsbackup:apiUrl", f"http://127.0.0.1:{port}/api/v1")
    assert_one_message(
        project.up(ok=False),
        "wait_for_backups: GET /backups/",
        f"got no answer from http://127.0.0.1:{port}",
        "Check the network and the API URL (vpsbackup:apiUrl or VPS_API_URL)",
    )
