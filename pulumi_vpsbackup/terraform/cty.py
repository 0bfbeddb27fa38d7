"""Values on the Terraform plugin protocol's wire: cty values in MessagePack.

OpenTofu and Terraform send and expect a `DynamicValue` holding a value of the
schema's type encoded as MessagePack (docs/plugin-protocol/object-wire-format.md
in the OpenTofu module): an object is a map of every attribute, a list, set or
tuple an array, a map a map, `null` nil, a number an integer, a float or (past
64 bits) its decimal text, and a value not known until apply a MessagePack
extension (type 0, or 12 for an unknown with refinements). An attribute of the
`dynamic` type carries its own type: a two-element array of the type's JSON and
the value.

Here a known value is plain Python (`str`, `int`, `float`, `bool`, `list`,
`dict`, `None`), an unknown one is `UNKNOWN` (the string the core's validation
already treats as unknown), and a value of the `dynamic` type is a `Dynamic`
that keeps its type, so that a value copied from the configuration into the
state goes back exactly as it came (a tuple stays a tuple).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgpack

from ..plugin.wire import UNKNOWN

__all__ = ["UNKNOWN", "Dynamic", "decode", "encode", "is_whole", "plain", "type_json"]

#: The extension MessagePack carries an unknown value in (cty's own choice).
_UNKNOWN_EXT = 0
#: An unknown value with refinements (newer cty); still unknown here.
_REFINED_EXT = 12


@dataclass(frozen=True)
class Dynamic:
    """A value of an attribute typed `dynamic`: its cty type (as JSON) and the value."""

    type: Any
    value: Any


def type_json(ty: Any) -> bytes:
    """A schema attribute's `type` field: the cty type as JSON."""
    return json.dumps(ty, separators=(",", ":")).encode()


def decode(data: bytes, ty: Any) -> Any:
    """A MessagePack `DynamicValue` of type `ty` as Python values."""
    if not data:
        return None
    raw = msgpack.unpackb(data, raw=False, strict_map_key=False)
    return _from_wire(raw, ty)


def encode(value: Any, ty: Any) -> bytes:
    """Python values of type `ty` as a MessagePack `DynamicValue`."""
    return msgpack.packb(_to_wire(value, ty), use_bin_type=True)


def plain(value: Any) -> Any:
    """`value` with every `Dynamic` replaced by the value it holds (what the core reads)."""
    if isinstance(value, Dynamic):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_whole(value: Any) -> bool:
    """Whether `value` is known all through (no unknown anywhere inside it)."""
    if isinstance(value, Dynamic):
        return is_whole(value.value)
    if isinstance(value, str):
        return value != UNKNOWN
    if isinstance(value, dict):
        return all(is_whole(v) for v in value.values())
    if isinstance(value, list):
        return all(is_whole(v) for v in value)
    return True


def _is_unknown_ext(raw: Any) -> bool:
    return isinstance(raw, msgpack.ExtType) and raw.code in (_UNKNOWN_EXT, _REFINED_EXT)


def _from_wire(raw: Any, ty: Any) -> Any:
    if raw is None:
        return None
    if _is_unknown_ext(raw):
        return UNKNOWN
    if ty == "dynamic":
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueError("a dynamic value must be [type, value]")
        inner_type = json.loads(raw[0] if isinstance(raw[0], (bytes, str)) else "null")
        return Dynamic(inner_type, _from_wire(raw[1], inner_type))
    if ty == "string":
        return raw.decode() if isinstance(raw, bytes) else raw
    if ty == "number":
        if isinstance(raw, (bytes, str)):
            text = raw.decode() if isinstance(raw, bytes) else raw
            try:
                return int(text)
            except ValueError:
                return float(text)
        return raw
    if ty == "bool":
        return bool(raw)
    kind, inner = ty[0], ty[1]
    if kind in ("list", "set"):
        return [_from_wire(item, inner) for item in raw]
    if kind == "tuple":
        return [_from_wire(item, t) for item, t in zip(raw, inner, strict=True)]
    if kind == "map":
        return {str(k): _from_wire(v, inner) for k, v in raw.items()}
    if kind == "object":
        return {name: _from_wire(raw.get(name), t) for name, t in inner.items()}
    raise ValueError(f"unsupported cty type {ty!r}")


def _to_wire(value: Any, ty: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value == UNKNOWN:
        return msgpack.ExtType(_UNKNOWN_EXT, b"\x00")
    if ty == "dynamic":
        if not isinstance(value, Dynamic):
            value = Dynamic(_infer(value), value)
        if value.value is None:
            return None
        return [type_json(value.type), _to_wire(value.value, value.type)]
    if isinstance(value, Dynamic):
        value = value.value
    if ty == "string":
        return str(value)
    if ty == "number":
        if isinstance(value, bool):
            raise ValueError("a bool is not a number")
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        return value
    if ty == "bool":
        return bool(value)
    kind, inner = ty[0], ty[1]
    if kind in ("list", "set"):
        return [_to_wire(item, inner) for item in value]
    if kind == "tuple":
        return [_to_wire(item, t) for item, t in zip(value, inner, strict=True)]
    if kind == "map":
        return {str(k): _to_wire(v, inner) for k, v in value.items()}
    if kind == "object":
        return {name: _to_wire(value.get(name), t) for name, t in inner.items()}
    raise ValueError(f"unsupported cty type {ty!r}")


def _infer(value: Any) -> Any:
    """The cty type of a plain value that has none (the core's own): a list is a tuple,
    a dict an object, as HCL would type the same literal."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [_infer(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {str(k): _infer(v) for k, v in value.items()}]
    if value is None:
        return "dynamic"
    raise ValueError(f"no cty type for {type(value).__name__}")
