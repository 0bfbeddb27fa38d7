"""Owner keys as the resource classes make them, for tests that drive a provider
host directly (without a program, so without a `StackIdentity`)."""

from __future__ import annotations

from pulumi_vpsbackup.client.marker import owner_key

#: The stack identity the host tests pretend their stack holds.
TEST_IDENTITY = "5eed" * 8


def key_for(name: str, kind: str = "Backup", identity: str = TEST_IDENTITY) -> str:
    """The owner key of a top-level resource `name` of type `kind` in that stack."""
    return owner_key(identity, kind, "", "", name)
