"""Randomised fault campaigns: whole program life cycles while the API misbehaves.

Per seed (a fixed list; ``--campaign-size N`` for more), a fresh fake gets a
random mix of faults: 5xx answers, 429 with ``Retry-After``, latency, dropped
connections before and after the request took effect, backups that fail
(``failure_rate``), restores that fail (``restore_failure_rate``), backups
deleted behind our back, wait timeouts (backups that outlive a 1 s `timeout`
and cannot be deleted while they run), a second stack with the same program
and descriptions on the same servers, and a person who makes manual backups
with the stack's descriptions while it runs. The seed's index also forces one
kind, so the default 12 seeds cover every kind. Each stack then lives a normal
life through the engine harness (one provider host per operation, as the
engine does):

    up -> up with new descriptions (replace) -> deletions + refresh -> up -> destroy

The first stack also has a BackupRotation (keep=2) whose triggers change at the
replace step and again at the second up, so it adds and prunes under faults.

Steps may fail; that is the point. After every step:

* no orphans: every manual backup on the fake that was not there at the start
  is in a stack's state, is the person's, is named by a failure message, or
  carries the marker key of one of the stacks' resources (a leftover the next
  `up` of that resource settles; after the final destroy none may remain);
* no duplicates: never two backups for one resource (per marker key, a
  replacement's pending delete aside), no backup id held by two resources, no
  URN twice in state;
* no wrong adoption: every backup a resource holds carries its own key; the
  person's backups are never held and never deleted;
* every failure is clear: the exception is one of this package's errors, its
  text is a sentence that names what failed (not a bare traceback or type);
* no token in the error, the host's output or the state file.

Then the faults are cleared and the stack must converge: ``up`` succeeds, a
second ``up`` changes nothing, and ``destroy`` leaves the fake as it started.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import owner_key, parse_marker
from pulumi_vpsbackup.fake import FakeServer, FakeVps, serve
from pulumi_vpsbackup.fake.errors import ValidationFailed
from vpsbackup_dev.engine import Engine, EngineError, Result

from ._support import (
    BACKUP_TYPE,
    CAMPAIGN_PROGRAM,
    ROTATION_TYPE,
    SERVERS,
    fake_backups,
    fast_fake,
    make_engine,
    manual_ids,
    numbers_in,
    state_backup_ids,
)

KINDS = (
    "5xx",
    "429",
    "latency",
    "drop-before",
    "drop-after",
    "failed-backups",
    "deleted-behind",
    "failed-restores",
    "wait-timeout",
    "two-stacks",
    "person",
)
PATHS = ("/api/v1/backups/", "/api/v1/backups/*", "/api/v1/servers/*", "/api/v1/*")
# What the text of a clear failure talks about.
SUBJECT = re.compile(
    r"\b(backups?|servers?|restores?|GET|POST|DELETE|check failed|timed out)\b", re.IGNORECASE
)
AMBIGUOUS_DELETE = re.compile(r"DELETE /backups/(?P<id>\d+)/ (failed with 5\d\d|got no answer)")


def key_of(description: str | None) -> str | None:
    marker = parse_marker(description)
    return marker.key if marker is not None else None


def mark_of(description: str | None) -> tuple[str | None, str | None]:
    """(owner key, intent) of a marked description: what one backup is for."""
    marker = parse_marker(description)
    return (marker.key, marker.intent) if marker is not None else (None, None)


IDENTITY_TYPE = "pulumi-python:dynamic/vpsbackup:StackIdentity"
# The warning for a backup that carries this stack's or resource's marker but
# that no state holds and nothing can prove is a leftover: named, left alone.
LEFT_ALONE = re.compile(
    r"backups? (?P<ids>\d+ \([^)]*\)(?:, \d+ \([^)]*\))*) (?:of server \d+ )?"
    r"carry this (?:stack|resource)'s marker"
)


def named_left_alone(output: str) -> set[int]:
    """The backup ids a warning named as left alone."""
    found: set[int] = set()
    for match in LEFT_ALONE.finditer(output):
        found |= {int(i) for i in re.findall(r"(\d+) \(", match["ids"])}
    return found


def identity_of(engine: Engine) -> str | None:
    """The stack identity in one stack's state (None before its first `up`)."""
    for res in engine.resources():
        if res.type == IDENTITY_TYPE and res.outputs.get("identity"):
            return str(res.outputs["identity"])
    return None


# A failure that names a backup id (not a server id or an HTTP status).
NAMED_BACKUP = re.compile(r"\b[Bb]ackups? \d+|existing_backup_id=\d+|/backups/\d+/")
ERROR_LINE = re.compile(r"^(?P<type>[\w.]+(?:Error|Exception)): (?P<text>.+)$")
OUR_ERROR = re.compile(r"^\[vpsbackup (?P<kind>\w+)\]$", re.MULTILINE)


@dataclass
class Plan:
    """What one seed does to the fake."""

    seed: int
    rules: list[dict[str, Any]] = field(default_factory=list)
    behaviour: dict[str, Any] = field(default_factory=dict)
    deletions: int = 0
    restore: bool = False
    parallel: int = 1
    backups: int = 3
    kinds: list[str] = field(default_factory=list)
    timeout: str = "20s"
    stacks: tuple[str, ...] = ("reliability",)
    person: int = 0

    def describe(self) -> str:
        kinds = [
            f"{r['action']}:{r.get('status', '')}:{r['method']}:{r['path']}" for r in self.rules
        ]
        return (
            f"seed {self.seed}: rules={kinds} behaviour={self.behaviour} "
            f"deletions={self.deletions} restore={self.restore} parallel={self.parallel} "
            f"timeout={self.timeout} stacks={self.stacks} person={self.person}"
        )


def make_plan(index: int, seed: int) -> Plan:
    rng = random.Random(seed)
    plan = Plan(seed=seed, parallel=rng.choice((1, 4)), backups=rng.choice((2, 3, 4)))
    kinds = {KINDS[index % len(KINDS)]}
    kinds.update(rng.sample(KINDS, rng.choice((1, 2))))
    plan.kinds = sorted(kinds)
    plan.restore = "failed-restores" in kinds or rng.random() < 0.4
    for kind in sorted(kinds):
        probability = round(rng.uniform(0.1, 0.3), 2)
        count = rng.choice((None, 3, 6))
        if kind == "5xx":
            method = rng.choice(("GET", "POST", "DELETE", "*"))
            phase = "after" if method in ("POST", "DELETE") and rng.random() < 0.5 else "before"
            plan.rules.append(
                dict(
                    action="status",
                    status=rng.choice((500, 502, 503, 504)),
                    method=method,
                    path=rng.choice(PATHS),
                    phase=phase,
                    probability=probability,
                    count=count,
                )
            )
        elif kind == "429":
            plan.rules.append(
                dict(
                    action="status",
                    status=429,
                    retry_after=rng.choice((0, 0.05, 0.2)),
                    method="*",
                    path=rng.choice(PATHS),
                    probability=round(rng.uniform(0.2, 0.4), 2),
                    count=count,
                )
            )
        elif kind == "latency":
            plan.rules.append(
                dict(
                    action="latency",
                    latency=round(rng.uniform(0.005, 0.03), 3),
                    method="*",
                    path="/api/v1/*",
                    probability=0.5,
                )
            )
        elif kind in ("drop-before", "drop-after"):
            plan.rules.append(
                dict(
                    action="drop",
                    phase=kind.split("-")[1],
                    method=rng.choice(("GET", "POST", "DELETE")),
                    path=rng.choice(PATHS),
                    probability=probability,
                    count=count,
                )
            )
        elif kind == "failed-backups":
            plan.behaviour["failure_rate"] = rng.choice((0.2, 0.4))
        elif kind == "deleted-behind":
            plan.deletions = rng.choice((1, 2))
        elif kind == "failed-restores":
            plan.behaviour["restore_failure_rate"] = rng.choice((0.5, 1.0))
        elif kind == "two-stacks":
            plan.stacks = ("reliability", "other")
            plan.backups = 2  # two stacks and their replacements within the quota
        elif kind == "person":
            plan.person = rng.choice((1, 2))
    if "wait-timeout" in kinds:
        # Some backups outlive the 1 s timeout; VPS.org refuses to delete them meanwhile.
        plan.timeout = "1s"
        plan.behaviour["completion"] = "reads"
        plan.behaviour["completion_reads"] = rng.choice((20, 40, 80))
        plan.behaviour["delete_in_progress"] = "reject"
    elif rng.random() < 0.5:
        plan.behaviour["completion"] = "reads"
        plan.behaviour["completion_reads"] = 1
    return plan


class Campaign:
    """One seed's run: the fake, the stack, what failed and what it named."""

    def __init__(self, plan: Plan, server: FakeServer, state: Path, leak_check: Any) -> None:
        self.plan = plan
        self.app: FakeVps = server.app
        self.engines: dict[str, Engine] = {
            stack: make_engine(
                state.with_name(f"{stack}-{state.name}"),
                server.url,
                CAMPAIGN_PROGRAM,
                parallel=plan.parallel,
                stack=stack,
                backups=str(plan.backups),
                # A restore by two stacks of one server would fight; one restores.
                restore="true" if plan.restore and n == 0 else "false",
                rotation="true" if n == 0 else "false",
                generation="1",
                timeout=plan.timeout,
            )
            for n, stack in enumerate(plan.stacks)
        }
        self.engine: Engine = self.engines[plan.stacks[0]]
        self.leak_check = leak_check
        self.initial = manual_ids(self.app)
        self.initial_all = set(fake_backups(self.app))
        self.acknowledged: set[int] = set()  # ids named by a failure message
        self.left_alone: set[int] = set()  # ids a warning named as left alone
        self.deleted_behind: set[int] = set()
        self.person: set[int] = set()  # manual backups a person made meanwhile
        self.person_rng = random.Random(plan.seed * 7 + 1)
        self.counts: Counter[str] = Counter()
        self.log: list[str] = []

    # -- running steps ---------------------------------------------------------

    def step(self, name: str, op: str, **config: str) -> Result | None:
        """Run ``op`` on every stack in turn (a person at work meanwhile);
        the first stack's result, None if any stack failed."""
        results: list[Result | None] = []
        person = threading.Thread(target=self.person_at_work, daemon=True)
        if self.plan.person:
            person.start()
        try:
            for stack, engine in self.engines.items():
                label = name if len(self.engines) == 1 else f"{name} [{stack}]"
                results.append(self._step(engine, label, op, **config))
        finally:
            if person.is_alive():
                person.join(30)
        self.check_invariants(name)
        return results[0] if all(r is not None for r in results) else None

    def _step(self, engine: Engine, name: str, op: str, **config: str) -> Result | None:
        for key, value in config.items():
            engine.config[f"campaign:{key}"] = value
        self.counts["steps"] += 1
        try:
            result: Result = getattr(engine, op)()
        except EngineError as err:
            self.counts["failures surfaced"] += 1
            named = numbers_in(err.message)
            names_backup = NAMED_BACKUP.search(err.message) is not None
            self.counts[
                "failures naming a backup" if names_backup else "failures naming no backup"
            ] += 1
            self.log.append(f"{name}: FAILED {err.message[:300]}")
            self.check_error(name, err)
            self.leak_check(err, err.result.host_output, where=f"{name}: error and host output")
            self.left_alone |= named_left_alone(err.result.host_output)
            self.acknowledged |= named
            return None
        self.log.append(f"{name}: ok {result.counts}")
        self.leak_check(result.host_output, where=f"{name}: host output")
        self.left_alone |= named_left_alone(result.host_output)
        return result

    def person_at_work(self) -> None:
        """Someone makes manual backups with the stacks' descriptions, by hand."""
        rng = self.person_rng
        for _ in range(self.plan.person):
            time.sleep(rng.uniform(0.0, 0.3))
            generation = self.engine.config.get("campaign:generation", "1")
            index = rng.randrange(self.plan.backups)
            server = SERVERS[index % 2]
            if len([i for i in self.person if fake_backups(self.app).get(i)]) >= 2:
                return
            try:
                made = self.app.model.create_backup(server, f"campaign g{generation} #{index}")
            except ValidationFailed:  # the quota: a person would simply not make one
                continue
            self.person.add(int(made["id"]))
            self.counts["backups made by a person beside the stack"] += 1

    def held(self, *, pending: bool = True) -> list[tuple[int, str | None]]:
        """(backup id, resource key) of every Backup in every stack's state."""
        out = []
        for engine in self.engines.values():
            for res in engine.resources():
                if res.type == BACKUP_TYPE and res.id and (pending or not res.delete):
                    out.append(
                        (
                            int(res.outputs.get("backup_id") or res.id),
                            res.outputs.get("resource_key"),
                        )
                    )
                if res.type == ROTATION_TYPE and res.id and (pending or not res.delete):
                    key = res.outputs.get("resource_key")
                    out.extend((int(i), key) for i in res.outputs.get("backup_ids") or [])
        return out

    def rotation_key(self) -> str | None:
        identity = identity_of(self.engine)
        return owner_key(identity, "BackupRotation", "", "", "rotation") if identity else None

    def delete_behind_our_back(self, name: str, how_many: int) -> None:
        in_state = [i for i, _ in self.held() if i in fake_backups(self.app)]
        rng = random.Random(self.plan.seed * 31 + len(self.deleted_behind))
        for backup_id in rng.sample(in_state, min(how_many, len(in_state))):
            self.app.remove_backup(backup_id)
            self.deleted_behind.add(backup_id)
            self.counts["backups deleted behind our back"] += 1
            self.log.append(f"{name}: removed backup {backup_id} behind the stack's back")

    # -- invariants ------------------------------------------------------------

    def check_error(self, name: str, err: EngineError) -> None:
        where = f"seed {self.plan.seed}, {name}"
        message = err.message.strip()
        assert message, f"{where}: empty error"
        if message.startswith("check failed: "):
            assert err.failures, f"{where}: a check failure without failures: {message}"
            return
        ours = OUR_ERROR.search(err.details)
        if ours:  # shown as its message (install_error_format), its kind last
            error_type, text = f"pulumi_vpsbackup.{ours['kind']}", message
            assert err.details.strip().startswith(text), f"{where}: the details start elsewhere"
            text = text.splitlines()[0]
        else:
            match = ERROR_LINE.match(message)
            assert match, f"{where}: the failure is not an exception line: {message!r}"
            error_type, text = match["type"], match["text"].strip()
            assert err.details.strip().endswith(text), f"{where}: the details end elsewhere"
        assert error_type.startswith("pulumi_vpsbackup."), (
            f"{where}: a raw {error_type} reached the user instead of a clear error: {message}"
        )
        assert len(text) >= 20 and text[0].isalnum(), f"{where}: not a sentence: {text!r}"
        assert SUBJECT.search(text), f"{where}: the error does not name what failed: {text!r}"

    def check_invariants(self, name: str) -> None:
        where = f"seed {self.plan.seed}, after {name}"
        for engine in self.engines.values():
            self.leak_check(engine.state_path, where=f"{where}: state file")
            live = [r.urn for r in engine.resources() if not r.delete]
            assert len(live) == len(set(live)), f"{where}: a URN twice in state: {live}"
        held_pairs = self.held()
        held = [i for i, _ in held_pairs]
        doubled = sorted(i for i, n in Counter(held).items() if n > 1)
        assert not doubled, f"{where}: backup ids held by two resources: {doubled}"

        on_fake = fake_backups(self.app)
        manual = {i for i, b in on_fake.items() if b["backup_type"] == "manual"}
        wrong = [
            (i, key)
            for i, key in held_pairs
            if i in on_fake and (i in self.person or key_of(on_fake[i]["description"]) != key)
        ]
        self.counts["wrong adoptions"] += len(wrong)
        assert not wrong, f"{where}: resources hold backups that are not theirs: {wrong}"
        gone = self.person - set(on_fake)
        assert not gone, f"{where}: the person's backups {sorted(gone)} were deleted"

        keys = {key for _, key in held_pairs} | self.keys()
        orphans = manual - self.initial - set(held) - self.person
        pending = {i for i in orphans if key_of(on_fake[i]["description"]) in keys}
        unexplained = orphans - self.acknowledged - pending - self.left_alone
        assert not unexplained, (
            f"{where}: orphaned backups {sorted(unexplained)} are on the API but neither in "
            f"state nor named by a failure nor marked for settlement; "
            f"{[on_fake[i]['description'] for i in unexplained]}\n" + "\n".join(self.log)
        )
        replaced = {i for i, _ in self.held(pending=False)}
        being_replaced = set(held) - replaced
        # A rotation holds several backups with its key by design; its duplicate
        # is a backup with its key that it does not hold (a leftover) beside another.
        rotation = self.rotation_key()
        # One resource may hold a backup and have left another, for other inputs
        # (named, left alone): a duplicate is two for the same owner and intent.
        per_key = Counter(
            mark_of(on_fake[i]["description"])
            for i in manual - self.initial - self.person - being_replaced
            if key_of(on_fake[i]["description"]) != rotation or i not in held
        )
        twice = sorted(str(k) for k, n in per_key.items() if n > 1)
        self.counts["duplicates"] += len(twice)
        assert not twice, f"{where}: two backups for one resource: {twice}\n" + "\n".join(self.log)
        # Automatic backups and the world's own manual backup are never touched.
        assert self.initial_all - set(on_fake) == set(), f"{where}: a pre-existing backup vanished"

    def keys(self) -> set[str]:
        """The owner keys of every Backup the stacks' program declares (from each
        stack's identity, as the resource class derives them)."""
        keys = {
            owner_key(identity, "Backup", "", "", f"backup-{i}")
            for engine in self.engines.values()
            if (identity := identity_of(engine))
            for i in range(self.plan.backups)
        }
        rotation = self.rotation_key()
        return keys | ({rotation} if rotation else set())

    # -- convergence -----------------------------------------------------------

    def stale_state(self) -> set[int]:
        """Backups the state holds that the API no longer has."""
        return {i for i, _ in self.held()} - set(fake_backups(self.app))

    def ambiguous_deletes(self) -> set[int]:
        """Backups whose DELETE failed without a clear answer during the campaign."""
        found: set[int] = set()
        for line in self.log:
            for match in AMBIGUOUS_DELETE.finditer(line):
                found.add(int(match["id"]))
        return found

    def clear_faults(self) -> None:
        journal = self.app.requests()
        self.counts["faults injected"] += sum(1 for entry in journal if entry.get("fault"))
        self.counts["faults injected"] += sum(
            int(rule["fired"]) for rule in self.app.faults.list() if rule["action"] == "latency"
        )
        self.counts["requests"] += len(journal)
        self.app.clear_faults()
        self.app.set_behaviour(failure_rate=0.0, restore_failure_rate=0.0, completion="immediate")
        for engine in self.engines.values():
            engine.config["campaign:timeout"] = "20s"
        # A failed restore leaves the server stopped; the operator starts it again.
        with self.app.model.lock:
            for server in self.app.model.servers.values():
                if server.status == "stopped":
                    server.status = "active"
                    self.counts["servers restarted after failed restores"] += 1


@pytest.mark.timeout(240)
def test_fault_campaign(
    campaign_seed: tuple[int, int],
    tmp_path: Path,
    leak_check: Any,
    reliability_report: Any,
) -> None:
    index, seed = campaign_seed
    plan = make_plan(index, seed)
    app = fast_fake(seed, **plan.behaviour)
    for rule in plan.rules:
        app.add_fault(**rule)
    with serve(app) as server:
        run = Campaign(plan, server, tmp_path / "state.json", leak_check)
        run.step("up", "up")
        run.step("replace", "up", generation="2")
        run.delete_behind_our_back("drift", plan.deletions)
        run.step("refresh", "refresh")
        run.step("up again", "up", release="2")
        run.delete_behind_our_back("drift before destroy", plan.deletions // 2)
        run.step("destroy", "destroy")

        run.clear_faults()
        converged = run.step("converge: up", "up")
        stale = run.stale_state()
        if converged is None or stale:
            # State can only go stale where a backup vanished without the stack
            # knowing: deleted behind its back (a refresh that failed under
            # faults never saw it), or an ambiguous DELETE failure
            # (test_ambiguous_delete_failure_leaves_a_phantom_in_state).
            # `pulumi up --refresh` is the user's way out; anything else fails.
            # A rotation's destroy that failed part-way names what it deleted.
            rotation_ids = {i for i, key in run.held() if key == run.rotation_key()}
            explained = (
                run.deleted_behind | run.ambiguous_deletes() | (run.acknowledged & rotation_ids)
            )
            assert stale and stale <= explained, (
                f"{plan.describe()}: does not converge; stale state {sorted(stale)}\n"
                + "\n".join(run.log)
            )
            run.counts["convergences that needed a refresh"] += 1
            run.step("converge: refresh", "refresh")
            converged = run.step("converge: up after refresh", "up")
        assert converged is not None, f"{plan.describe()}\n" + "\n".join(run.log)
        assert not run.stale_state(), f"{plan.describe()}\n" + "\n".join(run.log)
        again = run.step("converge: up again", "up")
        assert again is not None, f"{plan.describe()}\n" + "\n".join(run.log)
        assert set(again.counts) == {"same"}, f"{plan.describe()}: {again.counts}"
        for engine in run.engines.values():
            backups = [r for r in engine.resources() if r.type == BACKUP_TYPE]
            assert len(backups) == plan.backups
            assert all(r.outputs["status"] == "completed" for r in backups)
        rotations = [r for r in run.engine.resources() if r.type == ROTATION_TYPE]
        assert len(rotations) == 1
        members = rotations[0].outputs["backup_ids"]
        assert 1 <= len(members) <= 2, f"{plan.describe()}: {members}\n" + "\n".join(run.log)
        assert all(fake_backups(app)[int(i)]["status"] == "completed" for i in members)
        gone = run.step("converge: destroy", "destroy")
        assert gone is not None, f"{plan.describe()}\n" + "\n".join(run.log)
        assert all(engine.resources() == [] for engine in run.engines.values())
        # What a destroyed stack's runs left outside state (a create that timed
        # out and could not delete its backup, then `destroy` instead of `up`)
        # can no longer be proven its own: named by the destroy, left alone.
        remaining = manual_ids(app) - run.initial - run.person
        leftover = remaining - run.left_alone
        run.counts["orphans after the final destroy"] += len(leftover)
        named = remaining & run.left_alone
        run.counts["left alone and named after the final destroy"] += len(named)
        assert not leftover, (
            f"{plan.describe()}: left on the API after destroy, unnamed: {sorted(leftover)}\n"
            + "\n".join(run.log)
        )
        assert set(fake_backups(app)) - run.person - run.left_alone == run.initial_all

    run.counts.setdefault("wrong adoptions", 0)
    run.counts.setdefault("duplicates", 0)
    reliability_report.note(
        f"campaign seed {seed}: {', '.join(plan.kinds)}; {run.counts['steps']} steps, "
        f"{run.counts['faults injected']} faults, {run.counts['failures surfaced']} failures"
        + (
            " (converged after a refresh)"
            if run.counts["convergences that needed a refresh"]
            else ""
        )
    )
    reliability_report.add(
        **{f"campaign {k}": v for k, v in run.counts.items()},
        **{"campaign seeds": 1, "campaign retries converged": 1},
    )


# -- deterministic reproductions of what the campaigns found ---------------------------


def test_a_delete_answered_with_500_after_it_took_effect_leaves_no_phantom(
    tmp_path: Path,
) -> None:
    with serve(fast_fake()) as server:
        app = server.app
        engine = make_engine(
            tmp_path / "state.json", server.url, CAMPAIGN_PROGRAM, backups="1", restore="false"
        )
        engine.up()
        (backup_id,) = state_backup_ids(engine)
        # The API deletes the backup, then its answer is a 500 (a proxy's, say).
        # The client cannot know what happened, so it checks a listing: the
        # backup is gone, the delete counts as done, and destroy completes.
        app.add_fault(
            action="status",
            status=500,
            method="DELETE",
            path="/api/v1/backups/*",
            phase="after",
            count=1,
        )
        engine.destroy()
        assert backup_id not in fake_backups(app)
        assert state_backup_ids(engine) == []


def test_failed_backup_message_reads_as_one_sentence(tmp_path: Path) -> None:
    with serve(fast_fake(failure_rate=1.0)) as server:
        engine = make_engine(
            tmp_path / "state.json", server.url, CAMPAIGN_PROGRAM, backups="1", restore="false"
        )
        with pytest.raises(EngineError) as caught:
            engine.up()
    message = caught.value.message
    assert "ended with status failed" in message
    assert "was deleted" in message
    assert ".." not in message.replace("...", ""), message
