"""Property-based: whatever a client sends, the fake answers with a deliberate status.

A fake that crashes (500 or an exception) on odd input would hide client bugs
behind its own; every answer must be one the API could give.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_vpsbackup.fake import FakeClock, FakeVps

from ._support import START, TOKEN, make_client

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(
    st.sampled_from(["server_id", "description", "backup_id", "other"]), json_values, max_size=4
)


@settings(max_examples=150, deadline=None)
@given(body=bodies | json_values)
def test_create_and_restore_never_crash(body: Any) -> None:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0))
    with make_client(fake) as client:
        created = client.post("/backups/", json=body)
        restored = client.post("/servers/12345/restore/", json=body)
    assert created.status_code in (201, 400, 404)
    assert restored.status_code in (200, 400)
    assert isinstance(created.json(), dict) and isinstance(restored.json(), dict)


@settings(max_examples=100, deadline=None)
@given(query=st.dictionaries(st.sampled_from(["server_id", "backup_type", "page"]), st.text()))
def test_list_never_crashes(query: dict[str, str]) -> None:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0), page_size=2)
    with make_client(fake) as client:
        response = client.get("/backups/", params=query)
    assert response.status_code in (200, 400, 404)
    assert "count" in response.json() or response.status_code != 200


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0))
    with make_client(fake) as client:
        response = client.post("/backups/", content=raw)
    assert response.status_code in (201, 400, 404)
