"""The package's public surface, and independence of fake instances."""

from __future__ import annotations

import types

import httpx

import pulumi_vpsbackup.fake as fake_pkg
from pulumi_vpsbackup.fake import FakeClock, FakeVps

from ._support import START, TOKEN, make_client


def test_all_is_exactly_the_public_surface() -> None:
    public = {
        name
        for name, value in vars(fake_pkg).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert sorted(fake_pkg.__all__) == sorted(public)
    assert {"FakeVps", "serve", "launch", "LaunchedFake", "FakeStartError"} <= public
    for name in fake_pkg.__all__:
        value = getattr(fake_pkg, name)
        if isinstance(value, type) or callable(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_two_fakes_share_nothing() -> None:
    one = FakeVps(token=TOKEN, clock=FakeClock(START, 0))
    two = FakeVps(token=TOKEN, clock=FakeClock(START, 0))
    one.add_fault(status=500)
    with make_client(one) as c1, make_client(two) as c2:
        assert c1.get("/servers/").status_code == 500
        assert c2.post("/backups/", json={"server_id": 12345}).status_code == 201
        assert len(two.requests()) == 1
    assert all(b["id"] != 502 for b in one.state()["backups"])


def test_default_fake_uses_the_demo_token_and_real_time() -> None:
    app = FakeVps()
    with httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://fake.test/api/v1",
        headers={"Authorization": f"Bearer {fake_pkg.DEFAULT_TOKEN}"},
    ) as client:
        assert client.get("/account/me/").status_code == 200
    assert app.clock.scale == 1.0
