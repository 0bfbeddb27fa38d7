"""A create recognises its own backup by the marker in its description.

Through the real SDK provider host against the fake on 127.0.0.1:

* a lost answer adopts only the backup carrying that request's marker, never
  another stack's or a person's with the same description;
* a backup an earlier run left outside state (wait timeout, lost answer whose
  check failed too, an interrupted `pulumi up`) is found by the resource's
  stable key and settled by the next create: no second backup;
* users see and compare their own description, never the marker.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import intent_digest, parse_marker, strip_marker
from pulumi_vpsbackup.fake import FakeServer, FakeVps
from tests.support.keys import key_for
from vpsbackup_dev.host import ProviderError, ProviderHost

from .conftest import BACKUP_PROVIDER, BACKUP_TYPE, Engine, fake_backups, host_config

KEY = key_for("b")


def marked(description: str, key: str = KEY, server_id: int = 12345, triggers: Any = None) -> str:
    """A description as a create of `key` for these inputs would have sent it."""
    intent = intent_digest(server_id, description, triggers)
    return f"{description} [pvb:{key}.{intent}.0badcafe]"


ENV = {"VPS_API_TOKEN": "", "VPS_API_URL": ""}


@pytest.fixture
def host(served: FakeServer) -> Iterator[ProviderHost]:
    """A provider host per test, as per `pulumi up`: the fake's reset reuses backup
    ids, and a host remembers the ids it has seen in state."""
    with ProviderHost(env=ENV) as h:
        h.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
        yield h


@pytest.fixture
def backups(host: ProviderHost) -> Engine:
    return Engine(host, BACKUP_TYPE, BACKUP_PROVIDER)


def manual(fake: FakeVps, server_id: int = 12345) -> dict[int, dict[str, Any]]:
    return {i: b for i, b in fake_backups(fake, server_id).items() if b["backup_type"] == "manual"}


def key_of(backup: dict[str, Any]) -> str | None:
    marker = parse_marker(backup["description"])
    return marker.key if marker else None


# ---- the marker is the provider's, not the user's ----------------------------------------


def test_the_description_output_and_diff_never_show_the_marker(backups: Engine, fake):
    res = backups.create("b", server_id=12345, description="before deploy", resource_key=KEY)
    on_api = fake_backups(fake)[int(res.id)]["description"]
    assert on_api.startswith("before deploy [pvb:") and key_of({"description": on_api}) == KEY
    assert res.outputs["description"] == "before deploy"
    _, outcome = backups.diff(res, server_id=12345, description="before deploy", resource_key=KEY)
    assert outcome.changes is False


def test_state_from_before_markers_is_not_replaced(backups: Engine, fake):
    # Outputs written by a release without markers: no marker, no resource_key.
    res = backups.create("b", server_id=12345, description="old")
    res.outputs.pop("resource_key", None)
    _, outcome = backups.diff(res, server_id=12345, description="old", resource_key=KEY)
    assert outcome.changes is False


def test_a_description_too_long_for_the_marker_fails_the_check(backups: Engine, fake):
    _, failures = backups.check("b", {"server_id": 12345, "description": "x" * 240})
    assert failures and failures[0][0] == "description"
    assert "marker" in failures[0][1]
    _, adopting = backups.check(
        "b", {"server_id": 12345, "description": "x" * 240, "existing_backup_id": 499}
    )
    assert adopting == []


# ---- lost answers ----------------------------------------------------------------------


def test_a_lost_answer_never_adopts_someone_elses_backup(backups: Engine, fake, host):
    # The POST is held, then dropped before it takes effect; meanwhile a person
    # makes a backup of the same server with the same description.
    fake.add_fault(method="POST", path="/api/v1/backups/", action="latency", latency=0.4, count=1)
    fake.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="before", count=1)
    before = set(manual(fake))
    theirs: list[int] = []

    def person() -> None:
        time.sleep(0.15)
        theirs.append(fake.model.create_backup(12345, "nightly")["id"])

    other = threading.Thread(target=person)
    other.start()
    res = backups.create("b", server_id=12345, description="nightly", resource_key=KEY)
    other.join()
    assert int(res.id) not in theirs
    assert set(manual(fake)) - before == {int(res.id), *theirs}
    backups.delete(res)
    assert theirs[0] in fake_backups(fake), "the person's backup must survive our destroy"


def test_an_unchecked_lost_answer_is_settled_by_the_next_create(backups: Engine, fake):
    # The POST takes effect, its answer is lost (504), and the listing that
    # should tell fails too (502 five times).
    fake.add_fault(
        method="POST", path="/api/v1/backups/", action="status", status=504, phase="after", count=1
    )
    fake.add_fault(
        # skip: the check's listing (the create looks for leftovers in it)
        method="GET",
        path="/api/v1/backups/",
        action="status",
        status=502,
        skip=1,
        count=5,
    )
    before = set(manual(fake))
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12345, description="d", resource_key=KEY)
    message = info.value.message
    assert "the backup may have been created" in message
    assert f"the next `pulumi up` will find it by its marker [pvb:{KEY}]" in message
    assert "will not create another" in message
    (left,) = set(manual(fake)) - before
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    assert int(res.id) == left
    assert set(manual(fake)) - before == {left}


def test_a_create_that_may_still_land_says_the_outcome_is_unknown(backups: Engine, fake):
    # Every POST is answered 504 by the gateway and reaches the API
    # only ten (fake) minutes later, after every listing the create can make
    # within its budget. The error says so and names the marker the next run
    # looks for; the backups that land later do carry it.
    fake.add_fault(method="POST", path="/api/v1/backups/", action="defer", status=504, delay=600)
    before = set(manual(fake))
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12345, description="d", resource_key=KEY)
    message = info.value.message
    assert "the outcome is unknown" in message and "504 Gateway Timeout" in message
    assert f"the next run finds such a backup by its marker [pvb:{KEY}]" in message
    assert "listing to check it failed" not in message
    assert set(manual(fake)) == before
    fake.clear_faults()
    fake.advance(600)
    landed = set(manual(fake)) - before
    assert landed and all(key_of(manual(fake)[i]) == KEY for i in landed)


# ---- wait timeouts ---------------------------------------------------------------------


def test_a_wait_timeout_leftover_is_picked_up_not_piled_up(backups: Engine, fake):
    # The backup outlives `timeout`, and the API refuses to delete it while it runs.
    fake.set_behaviour(completion="time", backup_seconds=3600, delete_in_progress="reject")
    before = set(manual(fake))
    for _ in range(2):  # the same resource timing out twice makes no second backup
        with pytest.raises(ProviderError) as info:
            backups.create("b", server_id=12345, timeout=1, resource_key=KEY)
        (left,) = set(manual(fake)) - before
        message = info.value.message
        assert f"Backup {left} on server 12345 could not be deleted" in message
        assert "NOT in Pulumi state" not in message
        assert "Run `pulumi up` again" in message and "instead of creating another" in message
    fake.advance(3601)
    res = backups.create("b", server_id=12345, timeout=1, resource_key=KEY)
    assert int(res.id) == left and res.outputs["status"] == "completed"
    assert set(manual(fake)) - before == {left}


def test_a_failed_leftover_is_deleted_and_a_new_backup_made(backups: Engine, fake):
    left = fake.seed_backup(server_id=12345, status="failed", description=marked("d"))["id"]
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    assert int(res.id) != left
    assert left not in fake_backups(fake)


def test_a_leftover_made_for_an_old_description_is_left_alone(backups: Engine, fake):
    # Made by this resource, but for other inputs: not proven to be what this
    # create is for, so neither used nor deleted (the warning names it).
    left = fake.seed_backup(server_id=12345, description=marked("old"))["id"]
    res = backups.create("b", server_id=12345, description="new", resource_key=KEY)
    assert int(res.id) != left and left in fake_backups(fake)


def test_a_forced_replacement_never_takes_over_the_backup_it_replaces(backups: Engine, fake, host):
    # `pulumi up --replace` or replace_on_changes: same inputs, same resource key.
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    checked, _ = backups.diff(res, server_id=12345, description="d", resource_key=KEY)
    new_id, _ = host.create(res.urn, checked)
    assert new_id != res.id
    backups.delete(res)
    assert int(new_id) in fake_backups(fake)


# ---- an interrupted `pulumi up` ----------------------------------------------------------


def test_an_interrupted_up_is_settled_by_the_next_one(served: FakeServer, fake):
    fake.set_behaviour(completion="time", backup_seconds=60)
    before = set(manual(fake))
    env = ENV
    first = ProviderHost(env=env)
    first.start()
    first.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
    engine = Engine(first, BACKUP_TYPE, BACKUP_PROVIDER)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            engine.create("b", server_id=12345, description="d", resource_key=KEY)
        except BaseException as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=run)
    waiting.start()
    try:
        # The host has made the backup and is polling it (its progress line says so).
        first.wait_for_output("of server 12345 is in_progress after")
    finally:
        first.close()  # Ctrl-C: the engine kills the provider host mid-wait
        waiting.join(30)
    assert outcome, "the interrupted create must not have returned"
    (left,) = set(manual(fake)) - before

    fake.advance(61)
    with ProviderHost(env=env) as second:
        second.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
        res = Engine(second, BACKUP_TYPE, BACKUP_PROVIDER).create(
            "b", server_id=12345, description="d", resource_key=KEY
        )
    assert int(res.id) == left
    assert set(manual(fake)) - before == {left}


# ---- two stacks and a person on one server -------------------------------------------


def test_two_stacks_and_a_person_each_keep_exactly_their_own_backups(served: FakeServer, fake):
    fake.set_behaviour(completion="reads", completion_reads=1)
    # Every third POST loses its answer, before or after it takes effect.
    rng = random.Random(11)
    for phase in ("before", "after"):
        fake.add_fault(
            method="POST", path="/api/v1/backups/", action="drop", phase=phase, probability=0.25
        )
    fake.add_fault(
        method="POST",
        path="/api/v1/backups/",
        action="status",
        status=504,
        phase="after",
        probability=0.2,
    )
    before = set(manual(fake))
    env = ENV
    stacks = {name: ProviderHost(env=env) for name in ("stack-a", "stack-b")}
    held: dict[tuple[str, str], int] = {}
    errors: list[str] = []
    person: list[int] = []
    lock = threading.Lock()
    try:
        for host in stacks.values():
            host.start()
            host.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})

        def stack(name: str, host: ProviderHost) -> None:
            engine = Engine(host, BACKUP_TYPE, BACKUP_PROVIDER)
            for i in range(3):
                # The same project, stack and resource names in both: two
                # backends, told apart only by the identity each stack holds.
                key = key_for(f"b{i}", identity=name.encode().hex().ljust(32, "0")[:32])
                for _ in range(4):  # a failed `up` is run again
                    try:
                        res = engine.create(
                            f"b{i}", server_id=12345, description="nightly", resource_key=key
                        )
                    except ProviderError as exc:
                        with lock:
                            errors.append(f"{name} b{i}: {exc.message}")
                        continue
                    with lock:
                        held[(name, key)] = int(res.id)
                    break

        def someone() -> None:
            for _ in range(2):
                time.sleep(rng.uniform(0.01, 0.1))
                with lock:
                    person.append(fake.model.create_backup(12345, "nightly")["id"])

        threads = [threading.Thread(target=stack, args=item) for item in stacks.items()]
        threads.append(threading.Thread(target=someone))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for host in stacks.values():
            host.close()

    assert len(held) == 6, errors
    on_api = manual(fake)
    for (_, key), backup_id in held.items():
        assert key_of(on_api[backup_id]) == key, "a stack holds a backup that is not its own"
        assert strip_marker(on_api[backup_id]["description"]) == "nightly"
    assert len(set(held.values())) == 6, "two resources hold one backup"
    assert not set(person) & set(held.values()), "a person's backup was adopted"
    assert set(on_api) - before == set(held.values()) | set(person), "orphan or duplicate"


# ---- an identity that is this resource's, of this stack, for these inputs ------------------


def test_another_backends_stack_of_the_same_name_is_never_touched(backups: Engine, fake):
    # Same project, stack and resource name, another backend: another identity.
    theirs_key = key_for("b", identity="ab" * 16)
    theirs = fake.seed_backup(server_id=12345, description=marked("d", theirs_key))["id"]
    failed = fake.seed_backup(
        server_id=12345, status="failed", description=marked("d", theirs_key)
    )["id"]
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    assert int(res.id) not in (theirs, failed)
    backups.delete(res)
    assert {theirs, failed} <= set(fake_backups(fake)), "another stack's backup was touched"


def test_a_rotation_of_the_same_name_is_not_this_backups_owner(backups: Engine, fake):
    rotation = key_for("b", kind="BackupRotation")
    assert rotation != KEY
    member = fake.seed_backup(server_id=12345, description=marked("d", rotation))["id"]
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    assert int(res.id) != member
    backups.delete(res)
    assert member in fake_backups(fake)


def test_a_leftover_of_other_triggers_is_not_given_to_a_new_release(backups: Engine, fake):
    old = fake.seed_backup(server_id=12345, description=marked("d", triggers=["v1"]))["id"]
    res = backups.create("b", server_id=12345, description="d", triggers=["v2"], resource_key=KEY)
    assert int(res.id) != old
    assert old in fake_backups(fake), "made for other inputs: left alone and named"
    same = fake.seed_backup(server_id=12345, description=marked("d", triggers=["v3"]))["id"]
    again = backups.create(
        "b2", server_id=12345, description="d", triggers=["v3"], resource_key=KEY
    )
    assert int(again.id) == same, "a leftover made for the same triggers is used"


def test_destroy_deletes_what_its_own_earlier_runs_left_for_the_same_inputs(backups: Engine, fake):
    res = backups.create("b", server_id=12345, description="d", resource_key=KEY)
    # A late POST of an earlier run, landed after it had settled: same owner,
    # same inputs, another attempt.
    late = fake.seed_backup(server_id=12345, description=marked("d"))["id"]
    other_inputs = fake.seed_backup(server_id=12345, description=marked("e"))["id"]
    stranger = fake.seed_backup(server_id=12345, description="d")["id"]
    backups.delete(res)
    on_api = fake_backups(fake)
    assert int(res.id) not in on_api and late not in on_api
    assert other_inputs in on_api and stranger in on_api


def test_a_key_from_before_the_stack_identity_proves_nothing(backups: Engine, fake):
    legacy = "3f9a2c1e"  # state written by 0.2: a hash of project, stack and name
    left = fake.seed_backup(server_id=12345, description=f"d [pvb:{legacy}.0badcafe]")["id"]
    failed = fake.seed_backup(
        server_id=12345, status="failed", description=f"d [pvb:{legacy}.0badcafe]"
    )["id"]
    res = backups.create("b", server_id=12345, description="d", resource_key=legacy)
    assert int(res.id) not in (left, failed)
    marker = parse_marker(fake_backups(fake)[int(res.id)]["description"])
    assert marker is not None and marker.key is None, "no key that proves nothing"
    backups.delete(res)
    assert {left, failed} <= set(fake_backups(fake))
