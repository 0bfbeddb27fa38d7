"""VpsClient: listings, the shared cache, create reconciliation, delete and restore."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_vpsbackup.client import (
    BadRequestError,
    CreateReconciliationError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from pulumi_vpsbackup.client.marker import MARKER_RESERVED, Marker, parse_marker, strip_marker
from pulumi_vpsbackup.client.reconcile import LATE_POST_RECHECK

from .conftest import BASE, Harness, backup_json, json_response, page, server_json

#: An owner key as a resource class makes one (16 hex digits).
OWNER = "5d0c91aa3f9a2c1e"

MakeClient = Callable[..., Harness]


def test_get_account(make_client: MakeClient) -> None:
    h = make_client(
        json_response(
            200,
            {
                "account": {"email": "ops@example.com", "created_at": "2024-01-01T00:00:00Z"},
                "token": {"name": "ci", "permissions": ["backups:read"]},
            },
        )
    )
    account = h.client.get_account()
    assert account.email == "ops@example.com" and account.permissions == ("backups:read",)
    assert h.script.calls == ["GET /account/me/"]


def test_listing_follows_next_to_the_end(make_client: MakeClient) -> None:
    h = make_client(
        page(
            backup_json(1),
            backup_json(2),
            next_url=f"{BASE}/backups/?server_id=12345&page=2",
            count=4,
        ),
        page(backup_json(3), next_url="/api/v1/backups/?server_id=12345&page=3", count=4),
        page(backup_json(4), count=4),
    )
    backups = h.client.list_backups(server_id=12345)
    assert [b.id for b in backups] == [1, 2, 3, 4]
    assert h.script.calls == [
        "GET /backups/?server_id=12345",
        "GET /backups/?server_id=12345&page=2",
        "GET /backups/?server_id=12345&page=3",
    ]


def test_a_listing_that_changes_between_pages_is_read_again(make_client: MakeClient) -> None:
    # Backups 1-5, two a page. Backup 2 is deleted after page 1 was read: page 2
    # then starts at 4, and 3 would slip through unseen.
    nxt = f"{BASE}/backups/?server_id=12345&page=2"
    b = backup_json
    h = make_client(
        page(b(1), b(2), next_url=nxt, count=5),
        page(b(4), b(5), count=4),
        page(b(1), b(3), next_url=nxt, count=4),
        page(b(4), b(5), count=4),
    )
    found = h.client.find_backup(3, server_id=12345)
    assert found is not None and found.id == 3
    assert len(h.script.requests) == 4


def test_pages_without_a_count_are_accepted_when_two_reads_agree(make_client: MakeClient) -> None:
    nxt = f"{BASE}/backups/?cursor=abc"

    def pages(*second_page: int) -> list[httpx.Response]:
        return [
            httpx.Response(200, json={"results": [backup_json(1)], "next": nxt}),
            httpx.Response(
                200, json={"results": [backup_json(i) for i in second_page], "next": None}
            ),
        ]

    # Backup 2 was deleted between the first two reads: they disagree, so a
    # third read must confirm the second before the listing is believed.
    h = make_client(*pages(2, 3), *pages(3), *pages(3))
    assert [b.id for b in h.client.list_backups()] == [1, 3]
    assert len(h.script.requests) == 6


def test_an_item_seen_twice_across_pages_means_the_listing_moved(make_client: MakeClient) -> None:
    nxt = f"{BASE}/backups/?page=2"
    h = make_client(
        page(backup_json(5), backup_json(4), next_url=nxt, count=4),
        page(backup_json(4), backup_json(3), count=4),  # 6 was created: 4 moved to page 2
        page(backup_json(6), backup_json(5), next_url=nxt, count=4),
        page(backup_json(4), backup_json(3), count=4),
    )
    assert [b.id for b in h.client.list_backups()] == [6, 5, 4, 3]


def test_a_listing_that_never_settles_is_an_error_not_an_absence(
    make_client: MakeClient,
) -> None:
    nxt = f"{BASE}/backups/?server_id=12345&page=2"
    steps = []
    for total in (9, 8, 7):
        steps += [
            page(backup_json(1), next_url=nxt, count=total),
            page(backup_json(2), count=total - 1),
        ]
    h = make_client(*steps)
    with pytest.raises(UnexpectedResponseError, match="changed during each of 3"):
        h.client.find_backup(3, server_id=12345)


def test_listing_refuses_a_next_link_to_another_origin(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(1), next_url="https://evil.example/api/v1/backups/?page=2"))
    with pytest.raises(UnexpectedResponseError, match="another origin"):
        h.client.list_backups()
    assert len(h.script.requests) == 1


def test_listing_detects_a_looping_next(make_client: MakeClient) -> None:
    loop = f"{BASE}/backups/?page=2"
    h = make_client(page(next_url=loop), page(next_url=loop), page(next_url=loop))
    with pytest.raises(UnexpectedResponseError, match="loop"):
        h.client.list_backups()


def test_listing_filters_and_tolerates_a_server_ignoring_filters(make_client: MakeClient) -> None:
    h = make_client(
        page(
            backup_json(1, 12345, backup_type="manual"),
            backup_json(2, 12345, backup_type="automatic"),
            backup_json(3, 999, backup_type="manual"),
        )
    )
    backups = h.client.list_backups(server_id=12345, backup_type="manual")
    assert [b.id for b in backups] == [1]
    assert h.script.calls == ["GET /backups/?server_id=12345&backup_type=manual"]


def test_listing_rejects_a_malformed_body(make_client: MakeClient) -> None:
    h = make_client(httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        h.client.list_backups()
    h = make_client(json_response(200, {"count": 1, "results": [{"no": "id"}]}))
    with pytest.raises(UnexpectedResponseError, match="shape"):
        h.client.list_backups()


def test_list_servers(make_client: MakeClient) -> None:
    h = make_client(page(server_json(1), server_json(2, status="stopped")))
    servers = h.client.list_servers(status="stopped")
    assert [s.id for s in servers] == [1, 2]
    assert h.script.calls == ["GET /servers/?status=stopped"]


def test_find_backup_picks_from_the_server_listing(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(1), backup_json(2)), page(backup_json(1)))
    assert h.client.find_backup(2, server_id=12345) is not None
    assert h.client.find_backup(2, server_id=12345) is None
    assert h.script.calls == ["GET /backups/?server_id=12345"] * 2


def test_find_backup_falls_back_to_the_account_when_the_server_is_gone(
    make_client: MakeClient,
) -> None:
    h = make_client(json_response(404, {"detail": "Not found."}), page(backup_json(2, 77)))
    found = h.client.find_backup(2, server_id=12345)
    assert found is not None and found.server_id == 77
    assert h.script.calls == ["GET /backups/?server_id=12345", "GET /backups/"]


def test_cache_serves_listings_within_max_age(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(1), backup_json(2)), page(backup_json(1)))
    assert h.client.find_backup(1, server_id=12345, max_age=30) is not None
    h.clock.advance(10)
    assert h.client.find_backup(2, server_id=12345, max_age=30) is not None
    assert len(h.script.requests) == 1
    h.clock.advance(25)  # older than 30 s now
    assert h.client.find_backup(2, server_id=12345, max_age=30) is None
    assert len(h.script.requests) == 2


def test_absence_in_a_cached_listing_is_confirmed_by_a_fresh_one(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(1)), page(backup_json(1), backup_json(2)))
    h.client.list_backups(server_id=12345, max_age=60)
    h.clock.advance(5)
    found = h.client.find_backup(2, server_id=12345, max_age=60)
    assert found is not None and found.id == 2
    assert len(h.script.requests) == 2


def test_cached_listing_is_filtered_by_type(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(1), backup_json(2, backup_type="automatic")))
    assert [b.id for b in h.client.list_backups(server_id=12345, max_age=5)] == [1, 2]
    manual = h.client.list_backups(server_id=12345, backup_type="manual", max_age=5)
    assert [b.id for b in manual] == [1]
    assert h.script.calls == ["GET /backups/?server_id=12345"]


def test_single_flight_under_threads(make_client: MakeClient) -> None:
    release = threading.Event()
    entered = threading.Event()

    def slow_listing(request: httpx.Request) -> httpx.Response:
        entered.set()
        assert release.wait(5)
        return page(*[backup_json(i) for i in range(1, 21)])

    h = make_client(slow_listing)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def reader(backup_id: int) -> None:
        try:
            results[backup_id] = h.client.find_backup(backup_id, server_id=12345, max_age=60)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(1, 21)]
    for thread in threads:
        thread.start()
    assert entered.wait(5)
    time.sleep(0.2)  # let the other readers reach the in-flight request
    release.set()
    for thread in threads:
        thread.join(5)
    assert errors == []
    assert len(h.script.requests) == 1
    assert all(results[i] is not None and results[i].id == i for i in range(1, 21))
    assert h.client.listing_fetches == 1


def test_single_flight_shares_failures_too(make_client: MakeClient) -> None:
    h = make_client(json_response(400, {"detail": "bad filter"}), page(backup_json(1)))
    with pytest.raises(BadRequestError):
        h.client.list_backups(server_id=12345, max_age=60)
    # A failure is not cached: the next call asks again.
    assert [b.id for b in h.client.list_backups(server_id=12345, max_age=60)] == [1]


def test_writes_invalidate_the_cache(make_client: MakeClient) -> None:
    h = make_client(
        page(backup_json(1), backup_json(2)),  # cached listing
        json_response(201, backup_json(3, status="in_progress")),
        page(backup_json(1), backup_json(2), backup_json(3)),  # re-listed after create
        httpx.Response(204),  # delete 2
    )
    h.client.list_backups(server_id=12345, max_age=60)
    h.client.create_backup(12345, "nightly")
    assert [b.id for b in h.client.list_backups(server_id=12345, max_age=60)] == [1, 2, 3]
    assert h.client.delete_backup(2) is True
    # The delete prunes the cached listing without another request.
    assert [b.id for b in h.client.list_backups(server_id=12345, max_age=60)] == [1, 3]
    assert len(h.script.requests) == 4


# -- create_backup and reconciliation -------------------------------------------


def posted_marker(h: Harness, nth: int = -1) -> Marker:
    """The marker the ``nth`` POST sent (-1: the last one)."""
    posts = [
        b for r, b in zip(h.script.requests, h.script.bodies(), strict=True) if r.method == "POST"
    ]
    marker = parse_marker(posts[nth]["description"])
    assert marker is not None, posts[nth]
    return marker


def listing_with_posted(h_ref: list[Harness], *others: dict[str, Any], new_id: int = 6) -> Any:
    """A listing step that holds ``others`` plus the backup the last POST made."""

    def step(request: httpx.Request) -> httpx.Response:
        posted = [
            b
            for r, b in zip(h_ref[0].script.requests, h_ref[0].script.bodies(), strict=True)
            if r.method == "POST"
        ][-1]
        made = backup_json(new_id, status="in_progress", description=posted["description"])
        return page(*others, made)

    return step


def test_create_backup_posts_the_description_with_a_marker(make_client: MakeClient) -> None:
    h = make_client(
        json_response(201, backup_json(2, status="in_progress", description="pre-deploy")),
    )
    backup = h.client.create_backup(12345, "pre-deploy")
    assert backup.id == 2 and backup.is_in_progress
    assert h.script.calls == ["POST /backups/"]
    body = h.script.bodies()[0]
    assert body["server_id"] == 12345
    assert body["description"].startswith("pre-deploy [pvb:")
    assert strip_marker(body["description"]) == "pre-deploy"
    # no owner key and no intent: the marker is the token alone
    assert len(body["description"]) == len("pre-deploy") + MARKER_RESERVED - 26


def test_create_with_a_resource_key_puts_it_in_the_marker(make_client: MakeClient) -> None:
    h = make_client(json_response(201, backup_json(2, status="in_progress")))
    h.client.create_backup(12345, "pre-deploy", resource_key=OWNER, intent="61c0de2b")
    marker = posted_marker(h)
    assert marker.key == OWNER and marker.intent == "61c0de2b" and len(marker.token) == 8
    assert marker.proves_owner
    assert len(h.script.bodies()[0]["description"]) == len("pre-deploy") + MARKER_RESERVED


def test_an_owner_key_without_an_intent_is_refused_before_any_request(
    make_client: MakeClient,
) -> None:
    h = make_client()
    with pytest.raises(ValueError, match="intent"):
        h.client.create_backup(12345, "pre-deploy", resource_key=OWNER)
    assert h.script.calls == []


def test_create_without_description_sends_only_the_marker(make_client: MakeClient) -> None:
    h = make_client(json_response(201, backup_json(2, description=None)))
    h.client.create_backup(12345)
    description = h.script.bodies()[0]["description"]
    assert parse_marker(description) is not None and strip_marker(description) == ""


def test_every_attempt_gets_its_own_marker(make_client: MakeClient) -> None:
    h = make_client(
        httpx.ReadTimeout, page(), page(), json_response(201, backup_json(2, status="in_progress"))
    )
    h.client.create_backup(12345, "nightly", resource_key=OWNER, intent="61c0de2b")
    first, second = posted_marker(h, 0), posted_marker(h, 1)
    assert first.key == second.key == OWNER and first.intent == second.intent == "61c0de2b"
    assert first.token != second.token


@pytest.mark.parametrize(
    "ambiguous",
    [
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        json_response(500),
        json_response(502),
        json_response(503),
        json_response(504),
    ],
    ids=repr,
)
def test_create_adopts_the_backup_carrying_its_marker_after_a_lost_answer(
    make_client: MakeClient, ambiguous: Any
) -> None:
    ref: list[Harness] = []
    h = make_client(
        ambiguous,
        listing_with_posted(
            ref,
            backup_json(1, description="pre-deploy"),
            backup_json(5, description="something else"),
        ),
    )
    ref.append(h)
    backup = h.client.create_backup(12345, "pre-deploy")
    assert backup.id == 6
    assert h.script.calls == [
        "POST /backups/",
        "GET /backups/?server_id=12345&backup_type=manual",
    ]


def test_a_lost_answer_never_adopts_a_same_description_backup_without_its_marker(
    make_client: MakeClient,
) -> None:
    # Backup 7 appeared meanwhile with the same description (another
    # stack's, with its own marker) and backup 8 too (a person's, no marker).
    # Neither carries this request's marker: the request did not take effect,
    # so it is sent again; 7 and 8 are never adopted.
    others = page(
        backup_json(7, status="in_progress", description="nightly [pvb:0badcafe.12345678]"),
        backup_json(8, status="in_progress", description="nightly"),
    )
    h = make_client(
        json_response(502), others, others, json_response(201, backup_json(9, status="in_progress"))
    )
    assert h.client.create_backup(12345, "nightly").id == 9
    assert sum(1 for c in h.script.calls if c.startswith("POST")) == 2


def test_create_reposts_when_nothing_was_created(make_client: MakeClient) -> None:
    # Two listings a short wait apart show no backup with the marker: only then
    # is the request taken as not having taken effect, and sent again at once.
    h = make_client(
        httpx.ReadTimeout,
        page(backup_json(1)),
        page(backup_json(1)),
        json_response(201, backup_json(2, status="in_progress")),
    )
    assert h.client.create_backup(12345, "nightly").id == 2
    assert [c.split("?")[0] for c in h.script.calls] == [
        "POST /backups/",
        "GET /backups/",
        "GET /backups/",
        "POST /backups/",
    ]
    assert h.clock.sleeps == [LATE_POST_RECHECK]


def test_create_with_several_backups_carrying_its_markers_names_them(
    make_client: MakeClient,
) -> None:
    # Both attempts took effect (the first one late): both carry a marker of
    # this create, so neither may be dropped silently.
    ref: list[Harness] = []

    def both(request: httpx.Request) -> httpx.Response:
        descriptions = [
            b["description"]
            for r, b in zip(ref[0].script.requests, ref[0].script.bodies(), strict=True)
            if r.method == "POST"
        ]
        return page(
            backup_json(8, description=descriptions[0]),
            backup_json(9, description=descriptions[1]),
        )

    h = make_client(httpx.ReadTimeout, page(), page(), json_response(502), both)
    ref.append(h)
    with pytest.raises(CreateReconciliationError) as info:
        h.client.create_backup(12345, "nightly")
    assert info.value.candidates == [8, 9]
    assert "8, 9" in str(info.value)
    assert isinstance(info.value.__cause__, ServerError)


#: 2xx answers a client cannot read: a gateway's page, an empty body,
#: cut JSON, JSON that is no object, an object without an id.
UNREADABLE = {
    "html": httpx.Response(200, text="<html><h1>Bad Gateway</h1></html>"),
    "empty": httpx.Response(201),
    "cut-json": httpx.Response(201, text='{"id": 6, "server": {"id": 12'),
    "not-an-object": json_response(201, [6]),
    "no-id": json_response(201, {"status": "in_progress"}),
}


@pytest.mark.parametrize("answer", sorted(UNREADABLE))
def test_an_unreadable_create_answer_is_reconciled_by_its_marker(
    make_client: MakeClient, answer: str
) -> None:
    ref: list[Harness] = []
    h = make_client(UNREADABLE[answer], listing_with_posted(ref, backup_json(1)))
    ref.append(h)
    backup = h.client.create_backup(12345, "pre-deploy")
    assert backup.id == 6 and strip_marker(backup.description) == "pre-deploy"
    assert h.script.calls == [
        "POST /backups/",
        "GET /backups/?server_id=12345&backup_type=manual",
    ]


@pytest.mark.parametrize("answer", sorted(set(UNREADABLE) - {"no-id"}))  # a restore has no id
def test_an_unreadable_restore_answer_is_checked_on_the_server(
    make_client: MakeClient, answer: str
) -> None:
    h = make_client(UNREADABLE[answer], json_response(200, server_json(7, status="restoring")))
    result = h.client.restore_server(7, 501)
    assert result.status == "accepted" and result.server_status == "restoring"
    assert h.script.calls == ["POST /servers/7/restore/", "GET /servers/7/"]


def test_an_unreadable_restore_answer_the_server_does_not_confirm_says_so(
    make_client: MakeClient,
) -> None:
    h = make_client(UNREADABLE["html"], json_response(200, server_json(7, status="active")))
    with pytest.raises(UnexpectedResponseError) as info:
        h.client.restore_server(7, 501)
    assert info.value.outcome_unknown
    assert "not JSON" in str(info.value) and "took effect is unknown" in str(info.value)
    assert sum(1 for c in h.script.calls if c.startswith("POST")) == 1


def test_create_gives_up_after_the_attempt_budget(make_client: MakeClient) -> None:
    steps: list[Any] = []
    for _ in range(2):
        steps += [httpx.ReadTimeout, page(), page()]
    h = make_client(*steps, max_attempts=2)
    with pytest.raises(CreateReconciliationError) as info:
        h.client.create_backup(12345, "nightly", resource_key=OWNER, intent="61c0de2b")
    err = info.value
    assert err.outcome_unknown and err.unresolved and err.candidates == []
    assert err.markers == [str(posted_marker(h, 0)), str(posted_marker(h, 1))]
    assert isinstance(err.__cause__, TransportError)
    text = str(err)
    assert "the outcome is unknown" in text
    assert f"the next run finds such a backup by its marker [pvb:{OWNER}]" in text
    assert "ReadTimeout" in text and "2 requests" in text
    assert sum(1 for c in h.script.calls if c.startswith("POST")) == 2


def test_a_backup_appearing_in_the_second_listing_is_adopted(make_client: MakeClient) -> None:
    # The POST landed after the first listing (a gateway answered 504 first).
    ref: list[Harness] = []
    h = make_client(json_response(504), page(backup_json(1)), listing_with_posted(ref))
    ref.append(h)
    assert h.client.create_backup(12345, "nightly").id == 6
    assert [c.split("?")[0] for c in h.script.calls] == [
        "POST /backups/",
        "GET /backups/",
        "GET /backups/",
    ]
    assert h.clock.sleeps == [LATE_POST_RECHECK]


def test_no_second_listing_beyond_the_retry_budget(make_client: MakeClient) -> None:
    h = make_client(json_response(504), page(), max_retry_seconds=1)
    with pytest.raises(CreateReconciliationError) as info:
        h.client.create_backup(12345, "nightly")
    assert info.value.unresolved and "budget ran out" in str(info.value)
    assert "ends in one of them" in str(info.value)  # no resource key: look for the marker
    assert str(posted_marker(h)) in str(info.value)
    assert h.clock.sleeps == []
    assert len(h.script.requests) == 2


def test_create_failing_reconciliation_listing_raises(make_client: MakeClient) -> None:
    h = make_client(httpx.ReadTimeout, json_response(401, {"detail": "Invalid token."}))
    with pytest.raises(CreateReconciliationError, match="may have been created") as info:
        h.client.create_backup(12345, "nightly", resource_key=OWNER, intent="61c0de2b")
    assert info.value.candidates == []
    assert info.value.marker == str(posted_marker(h))
    assert str(posted_marker(h)) in str(info.value)


@pytest.mark.parametrize("status", [400, 401, 404, 409])
def test_create_client_errors_are_not_reconciled(make_client: MakeClient, status: int) -> None:
    h = make_client(json_response(status, {"detail": "no"}))
    with pytest.raises(Exception) as info:
        h.client.create_backup(12345, "nightly")
    assert getattr(info.value, "status_code", None) == status
    assert len(h.script.requests) == 1


# -- delete -----------------------------------------------------------------------


def test_delete_semantics(make_client: MakeClient) -> None:
    h = make_client(httpx.Response(204), json_response(404, {"detail": "Not found."}))
    assert h.client.delete_backup(5) is True
    assert h.client.delete_backup(5) is False
    assert h.script.calls == ["DELETE /backups/5/"] * 2


def test_delete_404_after_a_lost_response_counts_as_deleted(make_client: MakeClient) -> None:
    h = make_client(httpx.ReadTimeout, json_response(404))
    assert h.client.delete_backup(5) is True
    assert len(h.script.requests) == 2


def test_delete_404_after_a_429_means_it_was_already_absent(make_client: MakeClient) -> None:
    h = make_client(json_response(429, None, **{"Retry-After": "1"}), json_response(404))
    assert h.client.delete_backup(5) is False


# -- servers and restore --------------------------------------------------------------


def test_get_server_uses_get_one_when_available(make_client: MakeClient) -> None:
    h = make_client(json_response(200, server_json(7)), json_response(404, {"detail": "x"}))
    assert h.client.get_server(7).id == 7
    with pytest.raises(NotFoundError):
        h.client.get_server(8)
    assert h.script.calls == ["GET /servers/7/", "GET /servers/8/"]


def test_get_server_falls_back_to_the_listing(make_client: MakeClient) -> None:
    h = make_client(
        json_response(404, {"detail": "Not found."}),
        page(server_json(6), server_json(7)),
        page(server_json(7)),
        page(server_json(7)),
    )
    assert h.client.get_server(7).id == 7
    assert h.client.get_server(7).id == 7  # learnt: no GET-one any more
    with pytest.raises(NotFoundError, match="server 8 does not exist"):
        h.client.get_server(8)
    assert h.script.calls == ["GET /servers/7/", "GET /servers/", "GET /servers/", "GET /servers/"]


def test_restore_posts_once(make_client: MakeClient) -> None:
    h = make_client(
        json_response(
            200,
            {
                "status": "success",
                "message": "Server is being restored",
                "server": {"id": 7, "status": "restoring"},
            },
        )
    )
    result = h.client.restore_server(7, 501)
    assert (result.status, result.server_status, result.backup_id) == ("success", "restoring", 501)
    assert h.script.calls == ["POST /servers/7/restore/"]
    assert h.script.bodies() == [{"backup_id": 501}]


def test_restore_lost_answer_accepted_when_server_is_restoring(make_client: MakeClient) -> None:
    h = make_client(httpx.ReadTimeout, json_response(200, server_json(7, status="restoring")))
    result = h.client.restore_server(7, 501)
    assert result.status == "accepted" and result.server_status == "restoring"
    assert h.script.calls == ["POST /servers/7/restore/", "GET /servers/7/"]


def test_restore_lost_answer_accepted_by_last_restore(make_client: MakeClient) -> None:
    # wall clock in the harness: 1_700_000_000 + 1000 -> 2023-11-14T22:30:00Z
    last = {"backup_id": 501, "status": "completed", "started_at": "2023-11-14T22:30:05Z"}
    h = make_client(json_response(504), json_response(200, server_json(7, last_restore=last)))
    assert h.client.restore_server(7, 501).status == "accepted"


@pytest.mark.parametrize(
    "last_restore",
    [
        None,
        {"backup_id": 501, "status": "completed", "started_at": "2020-01-01T00:00:00Z"},
        {"backup_id": 999, "status": "completed", "started_at": "2023-11-14T22:30:05Z"},
    ],
)
def test_restore_lost_answer_not_proven_raises_the_original(
    make_client: MakeClient, last_restore: Any
) -> None:
    h = make_client(
        json_response(502, {"detail": "bad gateway"}),
        json_response(200, server_json(7, last_restore=last_restore)),
    )
    with pytest.raises(ServerError, match="502"):
        h.client.restore_server(7, 501)
    assert sum(1 for c in h.script.calls if c.startswith("POST")) == 1


def test_restore_client_error_is_not_reconciled(make_client: MakeClient) -> None:
    h = make_client(json_response(400, {"detail": "Backup is still in progress."}))
    with pytest.raises(BadRequestError, match="still in progress"):
        h.client.restore_server(7, 501)
    assert len(h.script.requests) == 1


def test_permission_denied_reports_the_tokens_permissions(make_client: MakeClient) -> None:
    h = make_client(
        json_response(403, {"detail": "You do not have permission."}),
        json_response(
            200, {"account": {}, "token": {"name": "ro", "permissions": ["backups:read"]}}
        ),
        json_response(403, {"detail": "You do not have permission."}),
    )
    for _ in range(2):
        with pytest.raises(PermissionDeniedError) as info:
            h.client.delete_backup(5)
        assert info.value.permissions == ("backups:read",)
        assert "The token's permissions are: backups:read" in str(info.value)
    # The permissions are asked for once.
    assert h.script.calls == ["DELETE /backups/5/", "GET /account/me/", "DELETE /backups/5/"]


def test_client_context_manager_and_from_env() -> None:
    from pulumi_vpsbackup.client import VpsClient

    with VpsClient.from_env(
        environ={"VPS_API_TOKEN": "t", "VPS_API_URL": "http://127.0.0.1:9/api/v1"}
    ) as c:
        assert c.settings.base_url == "http://127.0.0.1:9/api/v1"
    with pytest.raises(RuntimeError):
        c.list_backups()


def test_delete_with_unknown_outcome_is_checked_by_listing(make_client: MakeClient) -> None:
    h = make_client(json_response(500, {"detail": "proxy"}), page(backup_json(4)))
    assert h.client.delete_backup(5) is True
    assert h.script.calls == ["DELETE /backups/5/", "GET /backups/"]


def test_delete_with_unknown_outcome_still_there_raises(make_client: MakeClient) -> None:
    h = make_client(json_response(500, {"detail": "proxy"}), page(backup_json(5)))
    with pytest.raises(ServerError, match="DELETE /backups/5/ failed with 500"):
        h.client.delete_backup(5)


def test_delete_after_exhausted_timeouts_is_checked_by_listing(make_client: MakeClient) -> None:
    h = make_client(httpx.ReadTimeout, httpx.ReadTimeout, page(), max_attempts=2)
    assert h.client.delete_backup(5) is True


def test_delete_that_never_reached_the_api_is_not_checked(make_client: MakeClient) -> None:
    h = make_client(httpx.ConnectError, httpx.ConnectError, max_attempts=2)
    with pytest.raises(TransportError):
        h.client.delete_backup(5)
    assert len(h.script.requests) == 2
