"""Property values between the engine's protobuf form and the core's plain dicts.

The engine speaks in `google.protobuf.Struct`s whose values may be secrets
(a map with Pulumi's signature key) or the unknown sentinel (a preview of a
computed value). The core (the dynamic providers' steps) works on plain dicts
with snake_case names, unknowns as `rpc.UNKNOWN`, no secrets. So:

- `from_struct` gives the plain values and the set of top-level names that
  held a secret anywhere inside;
- `to_struct` wraps those names again, so what was secret going in is secret
  in the outputs;
- `snake` and `camel` rename top-level keys only: the schema's `serverId` is
  the core's `server_id`, while the keys inside `triggers` are the user's and
  stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

SECRET_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
UNKNOWN = rpc.UNKNOWN


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_KEY) == SECRET_SIG


def _unwrap(value: Any) -> tuple[Any, bool]:
    """`value` with every secret unwrapped, and whether there was one."""
    if _is_secret(value):
        inner, _ = _unwrap(value.get("value"))
        return inner, True
    if isinstance(value, Mapping):
        found = False
        out = {}
        for key, item in value.items():
            out[key], secret = _unwrap(item)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [_unwrap(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def from_struct(struct: struct_pb2.Struct | None) -> tuple[dict[str, Any], set[str]]:
    """Plain values (numbers as floats, as the core expects) and the secret names."""
    if struct is None:
        return {}, set()
    raw = json_format.MessageToDict(struct)
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in raw.items():
        values[key], secret = _unwrap(value)
        if secret:
            secrets.add(key)
    return values, secrets


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_KEY: SECRET_SIG, "value": value}


def to_struct(values: Mapping[str, Any], secrets: Iterable[str] = ()) -> struct_pb2.Struct:
    """A Struct of `values` (None dropped), the names in `secrets` wrapped as secrets."""
    hidden = set(secrets)
    struct = struct_pb2.Struct()
    struct.update(
        {
            key: secret(value) if key in hidden else value
            for key, value in values.items()
            if value is not None
        }
    )
    return struct


_UPPER = re.compile(r"[A-Z]")


def snake_name(name: str) -> str:
    """`serverId` -> `server_id`."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


def camel_name(name: str) -> str:
    """`server_id` -> `serverId`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(values: Mapping[str, Any]) -> dict[str, Any]:
    return {snake_name(key): value for key, value in values.items()}


def camel(values: Mapping[str, Any]) -> dict[str, Any]:
    return {camel_name(key): value for key, value in values.items()}
