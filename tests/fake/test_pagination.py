"""Optional DRF-style page-number pagination (off by default, as documented)."""

from __future__ import annotations

import httpx

from pulumi_vpsbackup.fake import FakeVps


def test_pages_link_with_absolute_urls_and_cover_everything(
    fake: FakeVps, client: httpx.Client
) -> None:
    fake.set_behaviour(page_size=3)
    for _ in range(4):
        fake.seed_backup(server_id=12345)
    first = client.get("/backups/", params={"server_id": 12345}).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert first["next"] == "http://fake.test/api/v1/backups/?server_id=12345&page=2"

    seen = [b["id"] for b in first["results"]]
    url: str | None = first["next"]
    pages = [first]
    while url:
        page = client.get(url).json()
        pages.append(page)
        seen += [b["id"] for b in page["results"]]
        url = page["next"]
    assert len(pages) == 3
    assert len(seen) == len(set(seen)) == 7
    assert pages[1]["previous"] == "http://fake.test/api/v1/backups/?server_id=12345"
    assert pages[2]["previous"] == "http://fake.test/api/v1/backups/?server_id=12345&page=2"
    assert pages[2]["next"] is None


def test_page_out_of_range_is_404(fake: FakeVps, client: httpx.Client) -> None:
    fake.set_behaviour(page_size=2)
    assert client.get("/backups/?page=3").status_code == 404
    assert client.get("/backups/?page=abc").json() == {"detail": "Invalid page."}
    assert client.get("/backups/?page=2").status_code == 200


def test_servers_paginate_too(fake: FakeVps, client: httpx.Client) -> None:
    fake.set_behaviour(page_size=1)
    body = client.get("/servers/").json()
    assert body["count"] == 2 and len(body["results"]) == 1
    assert body["next"] == "http://fake.test/api/v1/servers/?page=2"


def test_without_page_size_page_is_ignored(client: httpx.Client) -> None:
    body = client.get("/backups/?page=5").json()
    assert body["count"] == 4 and len(body["results"]) == 4
