"""Two creates on one server at once, one of which loses its answer.

Reconciliation adopts "the new backup with this description"; without one
create at a time per server, the lost request would adopt the other thread's
backup and two resources would own one id.
"""

from __future__ import annotations

import threading
import time

from pulumi_vpsbackup.client import ClientSettings, PollPolicy, VpsClient
from pulumi_vpsbackup.fake import FakeClock, FakeVps, serve

TOKEN = "vps_concurrent_create_token_42"


def test_a_lost_create_never_adopts_a_concurrent_create_of_the_same_server() -> None:
    app = FakeVps(token=TOKEN, world="empty", clock=FakeClock(scale=0))
    # The first POST is held for 0.5 s and then dropped before it takes effect.
    app.add_fault(method="POST", path="/api/v1/backups/", action="latency", latency=0.5, count=1)
    app.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="before", count=1)
    with serve(app) as server:
        settings = ClientSettings(token=TOKEN, base_url=server.url, poll=PollPolicy(initial=0))
        with VpsClient(settings) as client:
            got: dict[str, int] = {}

            def create(name: str) -> None:
                got[name] = client.create_backup(12345).id

            first = threading.Thread(target=create, args=("first",))
            first.start()
            time.sleep(0.1)  # the second starts while the first waits for its answer
            second = threading.Thread(target=create, args=("second",))
            second.start()
            first.join(10)
            second.join(10)
        held = sorted(b["id"] for b in app.state()["backups"])
    assert got["first"] != got["second"]
    assert sorted(got.values()) == held
