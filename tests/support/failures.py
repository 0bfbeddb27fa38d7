"""Check failures by the field they name.

A failure whose refused value the engine must not print raw (a very long or
unprintable text) names no property and starts its reason with the field's
name instead (`pulumi_vpsbackup.provider.core.base.shown_safely`); these tests
care which field, not how it was said.
"""

from __future__ import annotations

from collections.abc import Iterable


def by_field(failures: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(field, reason) of each failure; one without a property must name its field."""
    out = []
    for prop, reason in failures:
        if not prop:
            prop, sep, reason = reason.partition(": ")
            assert sep and prop.isidentifier(), f"a failure that names no field: {reason!r}"
        out.append((prop, reason))
    return out
