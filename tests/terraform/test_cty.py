"""cty values in MessagePack, as OpenTofu encodes them (its object-wire-format.md)."""

from __future__ import annotations

import msgpack
import pytest

from pulumi_vpsbackup.terraform import cty
from pulumi_vpsbackup.terraform.schema import RESOURCES

OBJ = ["object", {"a": "string", "n": "number", "l": ["list", "number"], "d": "dynamic"}]


def test_an_object_round_trips_with_every_attribute_present() -> None:
    value = {"a": "x", "n": 5, "l": [1, 2], "d": cty.Dynamic(["tuple", ["string"]], ["v1"])}
    raw = msgpack.unpackb(cty.encode(value, OBJ), raw=False)
    assert raw["a"] == "x" and raw["n"] == 5 and raw["l"] == [1, 2]
    # A dynamic value carries its type's JSON as bytes, then the value.
    assert raw["d"] == [b'["tuple",["string"]]', ["v1"]]
    assert cty.decode(cty.encode(value, OBJ), OBJ) == value
    sparse = msgpack.unpackb(cty.encode({"a": "x"}, OBJ), raw=False)
    assert sparse == {"a": "x", "n": None, "l": None, "d": None}


@pytest.mark.parametrize("ext", [msgpack.ExtType(0, b"\x00"), msgpack.ExtType(12, b"\x81\x01\xc2")])
def test_unknown_values_plain_or_refined_decode_as_unknown(ext: msgpack.ExtType) -> None:
    data = msgpack.packb({"a": ext, "n": 1, "l": [], "d": None}, use_bin_type=True)
    decoded = cty.decode(data, OBJ)
    assert decoded["a"] == cty.UNKNOWN and decoded["n"] == 1


def test_unknown_encodes_as_extension_zero() -> None:
    raw = msgpack.unpackb(cty.encode({"a": cty.UNKNOWN}, OBJ), raw=False)
    assert raw["a"] == msgpack.ExtType(0, b"\x00")


def test_numbers_past_64_bits_arrive_as_text() -> None:
    data = msgpack.packb({"a": None, "n": "18446744073709551617", "l": None, "d": None})
    assert cty.decode(data, OBJ)["n"] == 18446744073709551617
    assert cty.decode(msgpack.packb({"n": 2.5}), ["object", {"n": "number"}])["n"] == 2.5


def test_a_whole_number_float_is_sent_as_an_integer() -> None:
    raw = msgpack.unpackb(cty.encode({"n": 3.0}, ["object", {"n": "number"}]), raw=False)
    assert raw["n"] == 3 and isinstance(raw["n"], int)


def test_plain_strips_dynamic_wrappers_for_the_core() -> None:
    value = {
        "t": cty.Dynamic(["object", {"k": "string"}], {"k": "v"}),
        "x": [cty.Dynamic("string", "s")],
    }
    assert cty.plain(value) == {"t": {"k": "v"}, "x": ["s"]}


def test_every_schema_type_encodes_an_empty_state() -> None:
    for kind in RESOURCES.values():
        data = cty.encode({"id": "1"}, kind.type)
        assert set(msgpack.unpackb(data, raw=False)) == {*kind.names, "timeouts"}


def test_a_list_with_an_unknown_element_round_trips_and_is_not_whole() -> None:
    # A rotation's planned members: the new backup unknown, the kept ones known.
    ty = ["list", "number"]
    planned = [cty.UNKNOWN, 504]
    assert cty.decode(cty.encode(planned, ty), ty) == planned
    assert not cty.is_whole(planned)
    assert not cty.is_whole({"12346": cty.UNKNOWN})
    assert not cty.is_whole(cty.Dynamic(["list", "string"], [cty.UNKNOWN]))
    assert cty.is_whole([504, 503]) and cty.is_whole({"a": [1]}) and cty.is_whole(None)
