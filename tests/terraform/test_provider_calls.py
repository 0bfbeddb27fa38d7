"""The Terraform provider's calls in this process, over real HTTP to the fake: what
each costs in requests and what it says, where OpenTofu would only blur it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.terraform.provider import TerraformProvider

from .conftest import TOKEN


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate")
    with serve(app) as server:
        yield server


def provider(fake: FakeServer) -> TerraformProvider:
    made = TerraformProvider({})
    assert made.configure({"api_url": fake.url, "api_token": TOKEN}) == []
    return made


def test_an_import_reads_with_one_request_and_names_another_owner(fake: FakeServer) -> None:
    tf = provider(fake)
    made, _ = tf.call(
        lambda: tf.apply("vpsbackup_backup", None, {"server_id": 12345}, {"server_id": 12345})
    )
    assert made is not None
    key = made["resource_key"]
    for backup_id, owner in ((int(made["id"]), key), (499, None)):  # 499: made by hand
        state = tf.import_state("vpsbackup_backup", str(backup_id))
        fake.app.clear_requests()
        read, said = tf.call(lambda state=state: tf.read("vpsbackup_backup", state))
        assert read is not None and read["id"] == str(backup_id)
        # The warning's check reuses the read's listing of the account (itself cached
        # when the create listed moments ago): one request at most, none of its own.
        asked = [(r["method"], r["path"], r.get("query")) for r in fake.app.requests()]
        assert asked in ([], [("GET", "/api/v1/backups/", {})]), asked
        warned = [d.summary for d in said]
        if owner:
            assert len(warned) == 1 and f"owner key {owner}" in warned[0], warned
        else:
            assert warned == []
