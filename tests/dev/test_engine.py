"""The engine harness against the real provider host, with the sample file provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from vpsbackup_dev.engine import Engine, EngineError

PROGRAMS = Path(__file__).parent / "programs"
FILES = PROGRAMS / "files"
ALL = ["test-dev", "a", "group", "b", "c"]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path


def make_engine(work: Path, **config: str) -> Engine:
    cfg = {"sample:dir": str(work / "files"), "sample:token": "tok", "sample:greeting": "hi"}
    cfg.update({f"sample:{k}": v for k, v in config.items()})
    return Engine(work / "state.json", config=cfg, secret_keys={"sample:token"}, program=FILES)


def files(work: Path) -> list[str]:
    return sorted(p.name for p in (work / "files").iterdir())


def test_up_creates_then_noop_and_state_shape(work: Path) -> None:
    eng = make_engine(work)
    res = eng.up()
    # Registration order of independent resources varies (as with the engine); the
    # dynamic ones are chained by data and depends_on, so their order is fixed.
    assert sorted(res.ops()) == sorted(("create", n) for n in ALL)
    assert res.ops(dynamic_only=True) == [("create", "a"), ("create", "b"), ("create", "c")]
    assert res.summary == ["+ 5 created"]
    assert files(work) == ["a.txt", "b.txt", "c.txt"]
    a_path = str(work / "files" / "a.txt")
    assert res.outputs["a_path"] == a_path and res.outputs["a_id"] == a_path
    assert res.outputs["b_content"] == f"after {a_path}"
    assert res.outputs["token"] == "shh" and res.secret_outputs == {"token"}
    assert res.calls[0] == ("Configure", "")
    assert res.provider_calls("Create") == ["a", "b", "c"]
    assert "sample: created" in res.host_output

    state = json.loads((work / "state.json").read_text())
    by_name = {r["urn"].split("::")[-1]: r for r in state["resources"]}
    c = by_name["c"]
    assert (
        c["urn"]
        == "urn:pulumi:dev::test::test:component:Group$pulumi-python:dynamic/sample:File::c"
    )
    assert c["parent"] == by_name["group"]["urn"]
    assert by_name["b"]["urn"] in c["dependencies"]
    assert by_name["a"]["urn"] in by_name["b"]["property_dependencies"]["content"]
    # __provider is kept as a secret in inputs and outputs, as the engine stores it.
    assert rpc.is_rpc_secret(by_name["a"]["inputs"]["__provider"])
    assert rpc.is_rpc_secret(by_name["a"]["outputs"]["__provider"])
    assert by_name["a"]["outputs"]["greeting"] == "hi"  # configure() got the stack config
    assert by_name["test-dev"]["outputs"]["a_path"] == a_path

    again = eng.up()
    assert sorted(again.ops()) == sorted(("same", n) for n in ALL)
    assert again.summary == ["5 unchanged"]
    assert again.provider_calls("Create") == [] and again.provider_calls("Update") == []
    assert again.provider_calls("Diff") == ["a", "b", "c"]


def test_preview_of_new_stack_writes_nothing_and_shows_unknowns(work: Path) -> None:
    eng = make_engine(work)
    res = eng.preview()
    assert res.summary == ["+ 5 to create"]
    assert res.provider_calls("Create") == []
    assert not (work / "state.json").exists()
    assert files(work) == []
    assert isinstance(res.outputs["a_path"], Unknown)  # an output only create computes
    assert isinstance(res.outputs["a_id"], Unknown)
    assert res.outputs["a_content"] == "v1"  # the engine echoes the checked inputs
    assert isinstance(res.outputs["b_content"], Unknown)  # depends on a.path


def test_update_and_preview_of_it(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    before = (work / "state.json").read_bytes()
    eng.config["sample:content"] = "v2"

    pre = eng.preview()
    # In preview an updated resource's outputs are its inputs: a.path turns unknown, so
    # b (whose content derives from it) also shows as an update, as with the real engine.
    assert pre.ops(dynamic_only=True) == [("update", "a"), ("update", "b"), ("same", "c")]
    assert pre.summary == ["~ 2 to update", "3 unchanged"]
    assert pre.provider_calls("Update") == []
    assert (work / "state.json").read_bytes() == before
    assert (work / "files" / "a.txt").read_text() == "v1"

    res = eng.up()
    assert res.ops(dynamic_only=True) == [("update", "a"), ("same", "b"), ("same", "c")]
    assert res.summary == ["~ 1 updated", "4 unchanged"]
    assert (work / "files" / "a.txt").read_text() == "v2"
    a = eng.resource("a")
    assert a is not None and a.outputs["content"] == "v2" and a.outputs["size"] == 2


def test_replace_is_create_before_delete_by_default(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    eng.config["sample:a_name"] = "a2.txt"
    res = eng.up()
    assert res.op_of("a") == "replace"
    step = res.step("a")
    assert step is not None and step.detail == "create-before-delete"
    assert res.summary == ["~ 1 updated", "+- 1 replaced", "3 unchanged"]
    methods = [(m, u.split("::")[-1]) for m, u in res.calls]
    # The old a is deleted after the whole program ran (after c's Diff).
    assert (
        methods.index(("Create", "a"))
        < methods.index(("Diff", "c"))
        < methods.index(("Delete", "a"))
    )
    assert files(work) == ["a2.txt", "b.txt", "c.txt"]
    assert [r.name for r in eng.resources()].count("a") == 1
    assert res.outputs["b_content"] == f"after {work / 'files' / 'a2.txt'}"


@pytest.mark.parametrize("how", ["dbr_option", "dbr_provider"])
def test_replace_delete_before_replace(work: Path, how: str) -> None:
    eng = make_engine(work, **{how: "true"})
    eng.up()
    eng.config["sample:a_name"] = "a2.txt"
    res = eng.up()
    assert res.op_of("a") == "replace"
    step = res.step("a")
    assert step is not None and step.detail == "delete-before-replace"
    methods = [(m, u.split("::")[-1]) for m, u in res.calls]
    assert methods.index(("Delete", "a")) < methods.index(("Create", "a"))
    assert files(work) == ["a2.txt", "b.txt", "c.txt"]


def test_removed_resources_are_deleted_dependents_first(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    eng.config["sample:with_extras"] = "false"
    pre = eng.preview()
    assert pre.counts.get("delete") == 3
    assert files(work) == ["a.txt", "b.txt", "c.txt"]

    res = eng.up()
    deleted = [name for op, name in res.ops() if op == "delete"]
    assert sorted(deleted) == ["b", "c", "group"]
    assert deleted.index("c") < deleted.index("b")  # c depends_on b
    assert deleted.index("c") < deleted.index("group")  # group is c's parent
    assert files(work) == ["a.txt"]
    assert sorted(r.name for r in eng.resources()) == ["a", "test-dev"]


def test_refresh_drops_vanished_and_updates_drifted(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    (work / "files" / "a.txt").unlink()
    (work / "files" / "b.txt").write_text("drifted")
    res = eng.refresh()
    ops = {name: op for op, name in res.ops(dynamic_only=True)}
    assert ops == {"a": "refresh-delete", "b": "refresh", "c": "same"}
    assert res.summary == ["~ 1 updated", "- 1 deleted", "3 unchanged"]
    assert eng.resource("a") is None
    b = eng.resource("b")
    assert b is not None and b.outputs["content"] == "drifted"
    assert b.inputs["content"] == "drifted"  # ReadResult.inputs replaced the stored inputs

    res = eng.up()
    assert res.op_of("a") == "create"
    assert res.op_of("b") == "update"  # program content differs from the refreshed input
    assert (work / "files" / "b.txt").read_text().startswith("after ")


def test_destroy_in_reverse_dependency_order(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    # Destroy uses the provider stored in state: the program is not even consulted.
    eng.program = None
    res = eng.destroy()
    # Dependents first (c depends_on b and is group's child; b uses a's output; all are
    # the stack's children); otherwise the reverse of the state's order.
    deleted = [name for op, name in res.ops() if op == "delete"]
    assert sorted(deleted) == sorted(ALL)
    assert deleted.index("c") < deleted.index("b") < deleted.index("a")
    assert deleted.index("c") < deleted.index("group")
    assert deleted[-1] == "test-dev"
    assert res.provider_calls("Delete") == ["c", "b", "a"]
    assert files(work) == []
    assert eng.resources() == []


def test_failure_mid_up_saves_partial_state(work: Path) -> None:
    eng = make_engine(work, fail_b="true")
    with pytest.raises(EngineError) as info:
        eng.up()
    err = info.value
    assert err.urn is not None and err.urn.endswith("::b")
    assert err.message == "RuntimeError: create of b.txt refused: fail_create is set"
    assert "Traceback" in err.details
    assert ("create", "a") in err.result.ops()
    assert sorted(r.name for r in eng.resources()) == ["a", "group", "test-dev"]
    assert files(work) == ["a.txt"]

    eng.config["sample:fail_b"] = "false"
    res = eng.up()
    assert res.ops(dynamic_only=True) == [("same", "a"), ("create", "b"), ("create", "c")]
    assert files(work) == ["a.txt", "b.txt", "c.txt"]


def test_failed_update_keeps_old_state_and_skips_deferred_deletes(work: Path) -> None:
    eng = make_engine(work)
    eng.up()
    eng.config["sample:a_name"] = "a2.txt"  # replace a (create-before-delete) ...
    eng.config["sample:fail_b"] = "true"  # ... then b's update fails
    with pytest.raises(EngineError) as info:
        eng.up()
    assert info.value.urn is not None and info.value.urn.endswith("::b")
    assert info.value.result.provider_calls("Delete") == []
    states = eng.resources()
    old_a = [r for r in states if r.name == "a" and r.delete]
    assert len(old_a) == 1  # the replaced a waits, marked for deletion
    assert files(work) == ["a.txt", "a2.txt", "b.txt", "c.txt"]

    eng.config["sample:fail_b"] = "false"
    res = eng.up()
    assert ("delete-replaced", "a") in res.ops()
    assert files(work) == ["a2.txt", "b.txt", "c.txt"]


def test_check_failures_and_program_errors(work: Path) -> None:
    eng = make_engine(work, a_name="x/y")
    with pytest.raises(EngineError) as info:
        eng.up()
    assert info.value.failures == [("name", "name must be a plain, non-empty file name")]
    assert "check failed" in info.value.message

    eng = make_engine(work)
    eng.up()
    with pytest.raises(EngineError) as info2:
        eng.up(program=PROGRAMS / "broken")
    assert info2.value.urn is None
    assert "the program is broken" in info2.value.message
    # A failed program deletes nothing it did not see.
    assert files(work) == ["a.txt", "b.txt", "c.txt"]
    assert len(eng.resources()) == 5


def test_get_reads_and_import_fails_like_the_engine(work: Path) -> None:
    (work / "files" / "existing.txt").write_text("already here")
    eng = make_engine(work)
    res = eng.up(program=PROGRAMS / "getter")
    assert res.op_of("existing") == "read"
    assert res.outputs["existing_content"] == "already here"
    existing = eng.resource("existing")
    assert existing is not None and existing.external
    # A read resource is never deleted by the engine.
    eng.destroy()
    assert files(work) == ["existing.txt"]

    eng.config["sample:mode"] = "import"
    with pytest.raises(EngineError) as info:
        eng.up(program=PROGRAMS / "getter")
    # pulumi#16175: import sends only the id, and the dynamic host finds no __provider.
    assert info.value.message == "KeyError: '__provider'"


def test_non_dynamic_resources_echo_inputs_and_diff_by_inputs(work: Path) -> None:
    eng = make_engine(work)
    res = eng.up(program=PROGRAMS / "component")
    assert sorted(res.ops()) == [("create", "group"), ("create", "test-dev"), ("create", "thing")]
    assert res.outputs["thing_id"] == "thing-id"
    assert res.calls == []  # no dynamic resource: no provider host at all
    group = eng.resource("group")
    assert group is not None and group.outputs == {"label": "one"}

    eng.config["sample:label"] = "two"
    res = eng.up(program=PROGRAMS / "component")
    # The step generator diffs a resource without a provider by its inputs.
    assert res.op_of("group") == "update" and res.op_of("thing") == "same"
