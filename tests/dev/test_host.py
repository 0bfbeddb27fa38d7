"""ProviderHost against the real SDK provider host, with the sample file provider."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from tests.dev.sample_provider import FileProvider, SampleFile
from vpsbackup_dev import host as host_module
from vpsbackup_dev.host import (
    PROVIDER_KEY,
    ProviderError,
    ProviderHost,
    serialize_provider,
    urn,
)

TYPE = "pulumi-python:dynamic/sample:File"


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    with ProviderHost() as h:
        h.configure(
            {"sample:greeting": "hello", "sample:token": "s3cr3t"},
            secret_keys={"sample:token"},
        )
        yield h
    assert not h.alive


@pytest.fixture(scope="module")
def provider_str() -> str:
    return serialize_provider(FileProvider())


def _news(provider_str: str, directory: Path, name: str, content: str, **extra: object) -> dict:
    # As a program sends it: __provider is a secret by default.
    return {
        "dir": str(directory),
        "name": name,
        "content": content,
        PROVIDER_KEY: rpc.wrap_rpc_secret(provider_str),
        **extra,
    }


def test_helpers() -> None:
    assert urn(TYPE, "a") == "urn:pulumi:dev::test::pulumi-python:dynamic/sample:File::a"
    assert SampleFile._resource_type_name == "dynamic/sample:File"
    s = serialize_provider(FileProvider())
    assert base64.b64decode(s)  # base64 of a dill pickle
    assert len(s) < 400  # pickled by reference: the class is importable


def test_full_lifecycle(host: ProviderHost, provider_str: str, tmp_path: Path) -> None:
    u = urn(TYPE, "one")
    news = _news(provider_str, tmp_path, "one.txt", "v1")

    inputs, failures = host.check(u, {}, news)
    assert failures == []
    assert inputs["content"] == "v1"
    assert inputs[PROVIDER_KEY] == provider_str  # the host echoes the plain string back

    id_, outs = host.create(u, inputs)
    assert id_ == str(tmp_path / "one.txt")
    assert (tmp_path / "one.txt").read_text() == "v1"
    assert outs["content"] == "v1"
    assert outs["size"] == 2  # numbers come back as floats
    assert isinstance(outs["size"], float)
    assert outs["greeting"] == "hello"  # configure() saw the namespaced stack config
    assert outs[PROVIDER_KEY] == provider_str

    same = host.diff(id_, u, outs, inputs)
    assert same.changes is False and not same.is_replace

    news2 = _news(provider_str, tmp_path, "one.txt", "v22")
    inputs2, _ = host.check(u, inputs, news2)
    upd = host.diff(id_, u, outs, inputs2)
    assert upd.changes is True and upd.replaces == []
    outs2 = host.update(id_, u, outs, inputs2)
    assert outs2["content"] == "v22" and outs2["size"] == 3
    assert outs2["path"] == id_  # update kept the create-time outputs

    rid, routs, rinputs = host.read(id_, u, outs2, inputs2)
    assert rid == id_ and routs["content"] == "v22"
    assert rinputs is not None and rinputs["content"] == "v22"
    (tmp_path / "one.txt").write_text("drifted")
    _, routs, _ = host.read(id_, u, outs2, inputs2)
    assert routs["content"] == "drifted"

    news3 = _news(provider_str, tmp_path, "renamed.txt", "v22", delete_before_replace=True)
    inputs3, _ = host.check(u, inputs2, news3)
    rep = host.diff(id_, u, outs2, inputs3)
    assert rep.is_replace and rep.replaces == ["name"] and rep.delete_before_replace

    host.delete(id_, u, outs2)
    assert not (tmp_path / "one.txt").exists()
    gone_id, gone_outs, _ = host.read(id_, u, outs2, inputs2)
    assert gone_id == ""  # ReadResult(None, {}) -> "gone"
    assert gone_outs == {PROVIDER_KEY: provider_str}

    host.wait_for_output("sample: created")
    host.wait_for_output("sample: configured")


def test_check_and_diff_with_unknowns(
    host: ProviderHost, provider_str: str, tmp_path: Path
) -> None:
    u = urn(TYPE, "unk")
    # Preview: content comes from a resource not yet created.
    inputs, failures = host.check(u, {}, _news(provider_str, tmp_path, "u.txt", rpc.UNKNOWN))
    assert failures == []
    assert isinstance(inputs["content"], Unknown)
    inputs, failures = host.check(u, {}, _news(provider_str, tmp_path, "u.txt", Unknown()))
    assert isinstance(inputs["content"], Unknown)

    olds = {"dir": str(tmp_path), "name": "u.txt", "content": "x", PROVIDER_KEY: provider_str}
    d = host.diff("id", u, olds, inputs)
    assert d.changes is True and d.replaces == []

    # SDK quirk: the host's "unknown __provider -> use the olds' provider" fallback
    # compares an Unknown() object with the UNKNOWN string, so it never triggers and the
    # call fails. (A program never sends an unknown __provider, so it stays latent.)
    inputs_unknown_provider = dict(inputs, **{PROVIDER_KEY: Unknown()})
    with pytest.raises(ProviderError, match="not 'Unknown'"):
        host.diff("id", u, olds, inputs_unknown_provider)


def test_check_failures(host: ProviderHost, provider_str: str, tmp_path: Path) -> None:
    _, failures = host.check(urn(TYPE, "bad"), {}, _news(provider_str, tmp_path, "a/b", "x"))
    assert failures == [("name", "name must be a plain, non-empty file name")]


def test_create_error(host: ProviderHost, provider_str: str, tmp_path: Path) -> None:
    u = urn(TYPE, "boom")
    inputs, _ = host.check(u, {}, _news(provider_str, tmp_path, "b.txt", "x", fail_create=True))
    with pytest.raises(ProviderError) as info:
        host.create(u, inputs)
    err = info.value
    assert isinstance(err, grpc.RpcError)
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert "Traceback" in err.details()
    assert err.message == "RuntimeError: create of b.txt refused: fail_create is set"
    assert err.method == "Create"
    assert not (tmp_path / "b.txt").exists()
    assert host.alive  # a provider error does not kill the host


def test_four_concurrent_calls(host: ProviderHost, provider_str: str, tmp_path: Path) -> None:
    def create(i: int) -> tuple[str, dict]:
        u = urn(TYPE, f"c{i}")
        inputs, _ = host.check(u, {}, _news(provider_str, tmp_path, f"c{i}.txt", "x", sleep=1.0))
        return host.create(u, inputs)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(create, range(4)))
    elapsed = time.monotonic() - started
    assert len({r[0] for r in results}) == 4
    assert elapsed < 3.5, elapsed  # serial would take >= 4 s
    # All four ran at once in the host's 4-thread pool (one cached provider instance).
    assert max(r[1]["max_active"] for r in results) == 4


def test_host_start_failure_is_reported(tmp_path: Path) -> None:
    # A broken interpreter environment: the host dies before printing its port.
    h = ProviderHost(env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    (tmp_path / "pulumi").mkdir()
    (tmp_path / "pulumi" / "__init__.py").write_text("raise SystemExit('no pulumi here')\n")
    with pytest.raises(RuntimeError, match="did not start"):
        h.start()
    assert "no pulumi here" in h.output()
    h.close()


@pytest.fixture
def slow_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's reader threads hand every line over late, as on a loaded machine."""
    add = host_module._Output.add

    def late(self: host_module._Output, stream: str, text: str) -> None:
        time.sleep(0.3)
        add(self, stream, text)

    monkeypatch.setattr(host_module._Output, "add", late)


def test_settled_output_holds_all_a_call_printed(
    host: ProviderHost, provider_str: str, tmp_path: Path, slow_readers: None
) -> None:
    u = urn(TYPE, "settled")
    inputs, _ = host.check(u, {}, _news(provider_str, tmp_path, "settled.txt", "x"))
    start = host.mark()
    path, _ = host.create(u, inputs)
    # The host printed it before the call returned: no waiting for a line needed.
    assert f"sample: created {path}\n" in host.settled_output()[start:]
    assert "provider-host-sync" not in host.output()  # the sync lines are never output
    host.delete(path, u, inputs)


def test_wait_for_output_waits_then_fails_with_what_was_printed(
    host: ProviderHost, provider_str: str, tmp_path: Path, slow_readers: None
) -> None:
    u = urn(TYPE, "waited")
    inputs, _ = host.check(u, {}, _news(provider_str, tmp_path, "waited.txt", "x"))
    start = host.mark()
    path, _ = host.create(u, inputs)
    assert f"sample: created {path}\n" in host.wait_for_output("sample: created", since=start)
    with pytest.raises(AssertionError, match="did not print 'sample: deleted'") as info:
        host.wait_for_output("sample: deleted", since=start, timeout=0.5)
    assert f"it printed:\nsample: created {path}\n" in str(info.value)
    host.delete(path, u, inputs)


def test_a_closed_host_has_settled_and_waiting_on_it_fails_at_once(tmp_path: Path) -> None:
    with ProviderHost() as h:
        h.configure({"sample:greeting": "hi"})
        h.check(urn(TYPE, "c"), {}, _news(serialize_provider(FileProvider()), tmp_path, "c", "x"))
    assert "sample: configured" in h.settled_output()  # closing read all of it
    started = time.monotonic()
    with pytest.raises(AssertionError, match="did not print 'never'"):
        h.wait_for_output("never", timeout=30)
    assert time.monotonic() - started < 5  # its pipes are closed: no line can come
