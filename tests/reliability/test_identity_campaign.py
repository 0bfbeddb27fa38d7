"""The identity campaign: whose backup is it, when runs are cut short?

Per seed, two stacks with the SAME project, stack and resource names (two
backends: two stack identities) share one server with a person who makes
backups by hand. Each stack declares a `Backup("web")` and, by seed, a
`BackupRotation("web")` of the same name, and one of them a `Restore`. A seed
is a random sequence of what users do, each step a command with a fresh real
SDK provider host (as the CLI starts one per command), driven the way the
engine drives it:

- `up`, and an `up` interrupted (the host killed, as by two Ctrl-Cs or
  SIGKILL) once the backup or restore it started is on the API;
- a new release (triggers), a rename with or without an alias, `destroy`;
- a late POST (a duplicate with the resource's marker, landing after the
  create settled) and a 2xx answer whose body is not JSON.

After every step: no backup a stack holds was deleted by anyone but itself
(wrong deletions), no resource holds a backup whose marker is not its own
(wrong adoptions), and no restore was sent twice for one intent (repeated
restores). At the end, with faults cleared, each stack converges (up, up
again unchanged, destroy): no two backups for one owner and intent were ever
held or left at once (duplicates), and nothing is left on the API that is
neither the person's nor named by a warning as left alone (orphans).

``--identity-campaign-size N`` picks how many seeds (default 6; the issue's
figure is 200, about 20 minutes on 2 cores). Each seed's figures are added to
the reliability report.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import intent_digest, owner_key, parse_marker, stack_tag
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.provider import BackupProvider, RestoreProvider
from pulumi_vpsbackup.provider.core.identity import StackIdentityProvider
from pulumi_vpsbackup.provider.rotation import RotationProvider
from vpsbackup_dev.host import ProviderError, ProviderHost, serialize_provider, urn

TOKEN = "vps_identity_campaign_3c9e1f"
SERVER = 12345
RESTORE_SERVER = 12346
RESTORE_FROM = 500  # the demo world's automatic backup of 12346

BACKUP = "pulumi-python:dynamic/vpsbackup:Backup"
ROTATION = "pulumi-python:dynamic/vpsbackup:BackupRotation"
RESTORE = "pulumi-python:dynamic/vpsbackup:Restore"
IDENTITY = "pulumi-python:dynamic/vpsbackup:StackIdentity"
PROVIDERS = {
    BACKUP: serialize_provider(BackupProvider()),
    ROTATION: serialize_provider(RotationProvider()),
    RESTORE: serialize_provider(RestoreProvider()),
    IDENTITY: serialize_provider(StackIdentityProvider()),
}
KIND = {BACKUP: "Backup", ROTATION: "BackupRotation"}
LEFT_ALONE = re.compile(
    r"backups? (?P<ids>\d+ \([^)]*\)(?:, \d+ \([^)]*\))*) (?:of server \d+ )?"
    r"carry this (?:stack|resource)'s marker"
)
ENV = {"VPS_API_TOKEN": "", "VPS_API_URL": ""}


def config(url: str) -> dict[str, str]:
    return {
        "vpsbackup:apiToken": TOKEN,
        "vpsbackup:apiUrl": url,
        "vpsbackup:pollInterval": "0.02",
        "vpsbackup:maxPollInterval": "0.05",
        "vpsbackup:maxAttempts": "3",
    }


@dataclass
class Decl:
    """One resource as the program declares it."""

    type: str
    name: str
    props: dict[str, Any]
    aliases: list[str] = field(default_factory=list)


@dataclass
class Held:
    """One resource in a stack's state."""

    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class Interrupted(Exception):
    pass


class Stack:
    """One stack's state on its own backend, and the program it runs."""

    def __init__(self, label: str, url: str, rng: random.Random, *, rotation: bool) -> None:
        self.label = label
        self.url = url
        self.rng = rng
        self.identity: str | None = None
        self.identities: list[str] = []  # every identity this stack had (for the log)
        self.state: dict[str, Held] = {}
        self.release = 1
        self.backup_name = "web"
        self.aliases: list[str] = []
        self.lineage: list[str] = ["web"]  # the Backup's names joined by aliases
        self.rotation = rotation
        self.restore_intent = 0  # 0: no Restore declared; n: the n-th intent
        self.output = ""

    # -- the program -------------------------------------------------------------------
    def program(self) -> list[Decl]:
        triggers = [f"v{self.release}"]
        decls = [
            Decl(
                BACKUP,
                self.backup_name,
                {"server_id": SERVER, "description": "pre-deploy", "triggers": triggers},
                list(self.aliases),
            )
        ]
        if self.rotation:
            decls.append(
                Decl(
                    ROTATION,
                    "web",
                    {
                        "server_id": SERVER,
                        "keep": 2,
                        "description": "pre-deploy",
                        "triggers": triggers,
                    },
                )
            )
        if self.restore_intent:
            decls.append(
                Decl(
                    RESTORE,
                    "db",
                    {
                        "server_id": RESTORE_SERVER,
                        "backup_id": RESTORE_FROM,
                        "triggers": [self.restore_intent],
                        "timeout": 20,
                    },
                )
            )
        return decls

    def key(self, type_: str, name: str) -> str | None:
        if self.identity is None or type_ not in KIND:
            return None
        return owner_key(self.identity, KIND[type_], "", "", name)

    def props(self, decl: Decl) -> dict[str, Any]:
        props = {**decl.props, "__provider": PROVIDERS[decl.type]}
        key = self.key(decl.type, decl.name)
        if key is not None:
            props["resource_key"] = key
            if decl.type == ROTATION:
                props["resource_name"] = decl.name
            if decl.aliases:
                props["previous_keys"] = [self.key(decl.type, a) for a in decl.aliases]
        return props

    # -- one command -------------------------------------------------------------------
    def host(self) -> ProviderHost:
        host = ProviderHost(env=ENV)
        host.start()
        host.configure(config(self.url), secret_keys={"vpsbackup:apiToken"})
        return host

    def up(self, interrupt_when: Any = None) -> None:
        """`pulumi up`; `interrupt_when(host)` True kills the host mid-create."""
        host = self.host()
        try:
            if self.identity is None:
                _, outs = host.create(
                    urn(IDENTITY, "vpsbackup-stack-identity"),
                    {"identity": None, "__provider": PROVIDERS[IDENTITY]},
                )
                self.identity = outs["identity"]
                self.identities.append(f"{outs['identity'][:6]}/tag {stack_tag(outs['identity'])}")
            declared = self.program()
            for decl in declared:
                self._register(host, decl, interrupt_when)
            names = {d.name for d in declared}
            for name in [n for n in self.state if n not in names]:
                self._delete(host, self.state[name])  # no longer declared (a rename)
                del self.state[name]
        finally:
            host.close()  # then all it wrote has been read (the warnings that name)
            self.output += host.settled_output()

    def _register(self, host: ProviderHost, decl: Decl, interrupt_when: Any) -> None:
        the_urn = urn(decl.type, decl.name)
        old = self.state.get(decl.name)
        if old is None:
            for alias in decl.aliases:  # the engine moves an aliased resource's state
                if alias in self.state and self.state[alias].type == decl.type:
                    old = self.state.pop(alias)
                    break
        news = self.props(decl)
        checked, failures = host.check(the_urn, old.inputs if old else {}, news)
        assert not failures, failures
        if old is not None:
            diff = host.diff(old.id, the_urn, old.outputs, checked)
            if not diff.changes:
                old.inputs = checked
                self.state[decl.name] = old
                return
            if not diff.replaces:
                outs = host.update(old.id, the_urn, old.outputs, checked)
                self.state[decl.name] = Held(decl.type, decl.name, old.id, checked, outs)
                return
            checked, failures = host.check(the_urn, {}, news)
            assert not failures, failures
        id_, outs = self._create(host, the_urn, checked, interrupt_when)
        self.state[decl.name] = Held(decl.type, decl.name, id_, checked, outs)
        if old is not None:  # create-before-delete
            self._delete(host, old)

    def _create(
        self, host: ProviderHost, the_urn: str, checked: dict[str, Any], interrupt_when: Any
    ) -> tuple[str, dict[str, Any]]:
        if interrupt_when is None:
            return host.create(the_urn, checked)
        result: list[Any] = []

        def run() -> None:
            try:
                result.append(host.create(the_urn, checked))
            except BaseException as exc:  # the host was killed under it
                result.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        deadline = time.monotonic() + 30
        while not result and time.monotonic() < deadline:
            if interrupt_when(host):
                host.close()  # two Ctrl-Cs: the CLI and its provider host stop at once
                worker.join(30)
                raise Interrupted
            time.sleep(0.01)
        worker.join(30)
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    def _delete(self, host: ProviderHost, held: Held) -> None:
        host.delete(held.id, urn(held.type, held.name), held.outputs)

    def destroy(self) -> None:
        host = self.host()
        try:
            for name in list(self.state):
                self._delete(host, self.state.pop(name))
            if self.identity is not None:
                host.delete(
                    self.identity,
                    urn(IDENTITY, "vpsbackup-stack-identity"),
                    {"identity": self.identity, "__provider": PROVIDERS[IDENTITY]},
                )
                self.identity = None  # the next `up` is a new stack: a new identity
        finally:
            host.close()  # then all it wrote has been read (the warnings that name)
            self.output += host.settled_output()

    # -- what it holds -----------------------------------------------------------------
    def held_backups(self) -> dict[int, tuple[str, str]]:
        """backup id -> (type, name) of every backup this stack's state holds."""
        out: dict[int, tuple[str, str]] = {}
        for held in self.state.values():
            if held.type == BACKUP:
                out[int(held.id)] = (held.type, held.name)
            elif held.type == ROTATION:
                for i in held.outputs.get("backup_ids") or []:
                    out[int(i)] = (held.type, held.name)
        return out


class Campaign:
    def __init__(self, seed: int, app: FakeVps, url: str) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.app = app
        self.stacks = [
            Stack("mine", url, self.rng, rotation=self.rng.random() < 0.6),
            Stack("theirs", url, self.rng, rotation=self.rng.random() < 0.4),
        ]
        self.stacks[0].restore_intent = 1 if self.rng.random() < 0.5 else 0
        self.counts: Counter[str] = Counter()
        self.person: set[int] = set()
        self.initial = set(self.backups())
        self.log: list[str] = []
        self.previously_held: dict[int, str] = {}  # backup id -> stack label
        self.restores_before = self.restore_posts()

    def backups(self) -> dict[int, dict[str, Any]]:
        return {int(b["id"]): b for b in self.app.state()["backups"]}

    def restore_posts(self) -> int:
        return sum(
            1
            for r in self.app.requests()
            if r["method"] == "POST"
            and r["path"].endswith("/restore/")
            and str(r.get("status", "")).startswith("2")
        )

    # -- steps -----------------------------------------------------------------------
    def step(self, label: str, action: Any) -> None:
        # Time passes between commands (the fake's clock is otherwise frozen).
        self.app.advance(self.rng.uniform(1, 600))
        self.counts["steps"] += 1
        started = time.monotonic()
        try:
            action()
            self.log.append(f"{label}: ok ({time.monotonic() - started:.1f} s)")
        except Interrupted:
            self.counts["interrupted runs"] += 1
            self.log.append(f"{label}: interrupted")
        except ProviderError as exc:
            self.counts["failures surfaced"] += 1
            self.log.append(f"{label}: FAILED {exc.message.splitlines()[0][:200]}")
        self.check(label)

    def interrupted_up(self, stack: Stack) -> None:
        before = set(self.backups())
        restores = self.restore_posts()

        def started(_host: ProviderHost) -> bool:
            return bool(set(self.backups()) - before - self.person) or (
                self.restore_posts() > restores
            )

        # Backups take a while to complete: the kill lands while the create waits.
        self.app.set_behaviour(completion="reads", completion_reads=30)
        try:
            stack.up(interrupt_when=started)
        finally:
            self.app.set_behaviour(completion="reads", completion_reads=2)

    def late_post(self, stack: Stack) -> None:
        """A POST whose answer was lost lands after the create settled."""
        held = [h for h in stack.state.values() if h.type == BACKUP]
        if not held:
            return
        description = self.backups().get(int(held[0].id), {}).get("description") or ""
        marker = parse_marker(description)
        if marker is None or not marker.proves_owner:
            return
        late = re.sub(r"[0-9a-f]{8}\]$", "0badcafe]", description)
        self.app.model.create_backup(SERVER, late)
        self.counts["late POSTs landed"] += 1

    def someone(self) -> None:
        made = self.app.model.create_backup(SERVER, "pre-deploy")
        self.person.add(int(made["id"]))

    def unreadable_answer(self) -> None:
        self.app.add_fault(
            method="POST",
            path="/api/v1/backups/",
            status=200,
            phase="after",
            raw_body=self.rng.choice(["<html>gateway</html>", "", '{"id": 5']),
            count=1,
        )
        self.counts["unreadable 2xx answers"] += 1

    def run(self, steps: int) -> None:
        for n in range(steps):
            stack = self.rng.choice(self.stacks)
            what = self.rng.choice(
                [
                    "up",
                    "up",
                    "interrupted up",
                    "interrupted up",
                    "release",
                    "rename",
                    "destroy",
                    "late post",
                    "person",
                    "unreadable",
                    "restore again",
                ]
            )
            label = f"{n} {stack.label} {what}"
            if what == "up":
                self.step(label, stack.up)
            elif what == "interrupted up":
                self.step(label, lambda s=stack: self.interrupted_up(s))
            elif what == "release":
                stack.release += 1
                self.step(
                    label,
                    lambda s=stack: self.interrupted_up(s) if self.rng.random() < 0.5 else s.up(),
                )
            elif what == "rename":
                old = stack.backup_name
                stack.backup_name = f"web{n}"
                stack.aliases = [old] if self.rng.random() < 0.6 else []
                stack.lineage = (
                    [*stack.lineage, stack.backup_name] if stack.aliases else [stack.backup_name]
                )
                self.step(label, stack.up)
            elif what == "destroy":
                self.step(label, stack.destroy)
            elif what == "late post":
                self.late_post(stack)
                self.check(label)
            elif what == "person":
                self.someone()
            elif what == "unreadable":
                self.unreadable_answer()
                self.step(label, stack.up)
            elif what == "restore again" and stack.restore_intent:
                stack.restore_intent += 1
                self.step(label, lambda s=stack: self.interrupted_up(s))

    # -- invariants ---------------------------------------------------------------
    def check(self, label: str) -> None:
        where = f"seed {self.seed}, after {label}"
        on_api = self.backups()
        held_now: dict[int, str] = {}
        for stack in self.stacks:
            for backup_id, (type_, name) in stack.held_backups().items():
                if backup_id in held_now:  # two resources (of two stacks?) hold one backup
                    self.counts["wrong adoptions"] += 1
                    self.log.append(f"{where}: {backup_id} held twice")
                held_now[backup_id] = stack.label
                description = (on_api.get(backup_id) or {}).get("description")
                marker = parse_marker(description)
                names = stack.lineage if type_ == BACKUP else [name]
                own = {stack.key(type_, n) for n in names}
                if backup_id in on_api and (marker is None or marker.key not in own):
                    self.counts["wrong adoptions"] += 1
                    self.log.append(f"{where}: {stack.label} {name} holds {description!r}")
                held = stack.state.get(name)
                if type_ == BACKUP and held is not None and marker is not None:
                    made_for = intent_digest(SERVER, "pre-deploy", held.inputs.get("triggers"))
                    if backup_id in on_api and marker.intent != made_for:
                        self.counts["wrong adoptions"] += 1  # another release's backup
                        self.log.append(f"{where}: {name} holds another release's backup")
                if backup_id in self.person:
                    self.counts["wrong adoptions"] += 1
        # A backup a stack held is deleted only by that stack (it no longer holds it).
        for backup_id, label_before in self.previously_held.items():
            if backup_id not in on_api and held_now.get(backup_id) == label_before:
                self.counts["wrong deletions"] += 1
                self.log.append(f"{where}: {label_before}'s backup {backup_id} was deleted")
        gone = self.person - set(on_api)
        self.counts["wrong deletions"] += len(gone)
        self.person -= gone
        self.previously_held = held_now
        restores = self.restore_posts() - self.restores_before
        intents = sum(s.restore_intent for s in self.stacks)
        if restores > intents:
            self.counts["repeated restores"] += restores - intents
            self.log.append(f"{where}: {restores} restores for {intents} intents")

    def converge(self) -> None:
        self.app.clear_faults()
        self.app.set_behaviour(completion="reads", completion_reads=2)
        for stack in self.stacks:
            self.step(f"converge {stack.label}: up", stack.up)
            self.step(f"converge {stack.label}: up again", stack.up)
        for stack in self.stacks:
            self.step(f"converge {stack.label}: destroy", stack.destroy)
        left_alone: set[int] = set()
        for stack in self.stacks:
            for match in LEFT_ALONE.finditer(stack.output):
                left_alone |= {int(i) for i in re.findall(r"(\d+) \(", match["ids"])}
        remaining = (
            {i for i, b in self.backups().items() if b["backup_type"] == "manual"}
            - self.initial
            - self.person
        )
        self.counts["orphans"] += len(remaining - left_alone)
        self.counts["left alone and named"] += len(remaining & left_alone)
        per_intent = Counter(
            (m.key, m.intent)
            for i in remaining
            if (m := parse_marker(self.backups()[i].get("description"))) is not None
        )
        self.counts["duplicates"] += sum(n - 1 for n in per_intent.values() if n > 1)
        self.counts["manual backups left after the final destroy"] += len(remaining)
        if remaining - left_alone:
            on_api = self.backups()
            self.log.append(
                "orphans: "
                + ", ".join(
                    f"{i} {on_api[i]['description']!r}" for i in sorted(remaining - left_alone)
                )
            )
            for stack in self.stacks:
                self.log.append(f"{stack.label} identities: {stack.identities}")


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, world="demo", clock=FakeClock(scale=0), restore_seconds=0)
    with serve(app) as server:
        yield server


def identity_seeds(size: int) -> list[int]:
    return [90_001 + 104_729 * n for n in range(size)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "identity_seed" in metafunc.fixturenames:
        size = max(1, int(metafunc.config.getoption("identity_campaign_size")))
        metafunc.parametrize("identity_seed", identity_seeds(size), ids=lambda s: f"seed{s}")


def test_identity_campaign(identity_seed: int, served: FakeServer, reliability_report) -> None:
    app = served.app
    app.clear_faults()
    app.set_behaviour(completion="reads", completion_reads=2, restore_seconds=0)
    app.reset(world="demo")
    run = Campaign(identity_seed, app, served.url)
    run.run(steps=10)
    run.converge()
    keys = (
        "wrong deletions",
        "wrong adoptions",
        "orphans",
        "duplicates",
        "repeated restores",
    )
    figures = {k: run.counts[k] for k in keys}
    reliability_report.add(
        **{f"identity campaign {k}": v for k, v in run.counts.items()},
        **{"identity campaign seeds": 1},
    )
    assert figures == dict.fromkeys(keys, 0), f"seed {identity_seed}: {figures}\n" + "\n".join(
        run.log
    )
