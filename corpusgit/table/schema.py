"""Canonical schemas: one logical type per physical variant, with a stable JSON form.

``string``/``large_string``/``dictionary<string>`` hold the same values, so they get one
canonical type; table ids then do not depend on which writer produced a shard. The JSON form
(not Arrow IPC bytes) is what gets hashed, because IPC bytes vary across pyarrow releases.
"""

from __future__ import annotations

import base64
from typing import Any

import pyarrow as pa

from corpusgit.errors import BadInput

ROW_HASH_COLUMN = "_cgit_row"
ROW_HASH_TYPE = pa.binary(16)
LIST_ITEM = "element"  # Parquet's standard list child name, which modern Parquet readers return

_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.null(), "bool": pa.bool_(),
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(), "uint64": pa.uint64(),
    "float16": pa.float16(), "float32": pa.float32(), "float64": pa.float64(),
    "string": pa.string(), "binary": pa.binary(), "date32": pa.date32(), "date64": pa.date64(),
}


def canonical_type(t: pa.DataType) -> pa.DataType:
    """The canonical variant of a type (large and dictionary encodings removed, recursively)."""
    if pa.types.is_dictionary(t):
        return canonical_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t) or pa.types.is_list(t):
        return pa.list_(_child(t.value_field, LIST_ITEM))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_child(t.value_field, LIST_ITEM), t.list_size)
    if pa.types.is_map(t):
        return pa.map_(_child(t.key_field, "key"), _child(t.item_field, "value"), t.keys_sorted)
    if pa.types.is_struct(t):
        return pa.struct([canonical_field(t.field(i)) for i in range(t.num_fields)])
    return t


def canonical_field(f: pa.Field) -> pa.Field:
    return pa.field(f.name, canonical_type(f.type), f.nullable, f.metadata)


def _child(f: pa.Field, name: str) -> pa.Field:
    """A list or map child under its one standard name: writers differ ("item", "element",
    "array"), the values do not, and the name would otherwise enter every row hash."""
    return canonical_field(f).with_name(name)


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    """Canonical variant of a whole schema, metadata kept (it is content, e.g. pandas index info)."""
    return pa.schema([canonical_field(f) for f in schema], metadata=schema.metadata)


def type_to_json(t: pa.DataType) -> Any:
    """Stable JSON for a canonical type; raises BadInput for types we cannot version."""
    for name, prim in _PRIMITIVES.items():
        if t == prim:
            return name
    if pa.types.is_fixed_size_binary(t):
        return {"fixed_size_binary": t.byte_width}
    if pa.types.is_timestamp(t):
        return {"timestamp": t.unit, "tz": t.tz}
    if pa.types.is_time32(t) or pa.types.is_time64(t):
        return {"time": t.bit_width, "unit": t.unit}
    if pa.types.is_duration(t):
        return {"duration": t.unit}
    if pa.types.is_decimal(t):
        return {"decimal": t.bit_width, "precision": t.precision, "scale": t.scale}
    if pa.types.is_fixed_size_list(t):
        return {"fixed_size_list": field_to_json(t.value_field), "size": t.list_size}
    if pa.types.is_list(t):
        return {"list": field_to_json(t.value_field)}
    if pa.types.is_map(t):
        return {"map": [field_to_json(t.key_field), field_to_json(t.item_field)], "sorted": t.keys_sorted}
    if pa.types.is_struct(t):
        return {"struct": [field_to_json(t.field(i)) for i in range(t.num_fields)]}
    raise BadInput(f"column type {t} is not supported", hint="cast it to a standard Arrow type before adding")


def type_from_json(doc: Any) -> pa.DataType:
    """Inverse of ``type_to_json``."""
    if isinstance(doc, str):
        return _PRIMITIVES[doc]
    if "fixed_size_binary" in doc:
        return pa.binary(doc["fixed_size_binary"])
    if "timestamp" in doc:
        return pa.timestamp(doc["timestamp"], doc["tz"])
    if "time" in doc:
        return pa.time32(doc["unit"]) if doc["time"] == 32 else pa.time64(doc["unit"])
    if "duration" in doc:
        return pa.duration(doc["duration"])
    if "decimal" in doc:
        # decimal32/64 (pyarrow >= 18) must come back as themselves, not widened to decimal256.
        make = getattr(pa, f"decimal{int(doc['decimal'])}")
        return make(doc["precision"], doc["scale"])
    if "fixed_size_list" in doc:
        return pa.list_(field_from_json(doc["fixed_size_list"]), doc["size"])
    if "list" in doc:
        return pa.list_(field_from_json(doc["list"]))
    if "map" in doc:
        key, item = doc["map"]
        return pa.map_(field_from_json(key), field_from_json(item), doc["sorted"])
    return pa.struct([field_from_json(f) for f in doc["struct"]])


def field_to_json(f: pa.Field) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": f.name, "type": type_to_json(f.type), "nullable": f.nullable}
    if f.metadata:
        doc["metadata"] = _metadata_to_json(f.metadata)
    return doc


def field_from_json(doc: dict[str, Any]) -> pa.Field:
    return pa.field(doc["name"], type_from_json(doc["type"]), doc["nullable"], _metadata_from_json(doc.get("metadata")))


def schema_to_json(schema: pa.Schema) -> dict[str, Any]:
    doc: dict[str, Any] = {"fields": [field_to_json(f) for f in schema]}
    if schema.metadata:
        doc["metadata"] = _metadata_to_json(schema.metadata)
    return doc


def schema_from_json(doc: dict[str, Any]) -> pa.Schema:
    return pa.schema([field_from_json(f) for f in doc["fields"]], metadata=_metadata_from_json(doc.get("metadata")))


def describe_type(t: pa.DataType) -> str:
    """Short human name for tables and error messages."""
    return str(t)


def _metadata_to_json(meta: dict[bytes, bytes]) -> dict[str, str]:
    return {_b64_if_needed(k): _b64_if_needed(v) for k, v in sorted(meta.items())}


def _metadata_from_json(doc: dict[str, str] | None) -> dict[bytes, bytes] | None:
    if not doc:
        return None
    return {_from_b64_if_needed(k): _from_b64_if_needed(v) for k, v in doc.items()}


_B64_PREFIX = "base64:"  # marks metadata bytes that are not valid UTF-8


def _b64_if_needed(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _B64_PREFIX + base64.b64encode(raw).decode("ascii")
    return text if not text.startswith(_B64_PREFIX) else _B64_PREFIX + base64.b64encode(raw).decode("ascii")


def _from_b64_if_needed(text: str) -> bytes:
    if text.startswith(_B64_PREFIX):
        return base64.b64decode(text[len(_B64_PREFIX):])
    return text.encode("utf-8")


def conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """Rows in ``schema``'s column order; missing columns become nulls."""
    arrays = []
    for f in schema:
        if f.name in rows.schema.names:
            col = rows.column(f.name)
            arrays.append(col.cast(f.type) if col.type != f.type else col)
        else:
            arrays.append(pa.nulls(rows.num_rows, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
