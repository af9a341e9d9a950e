"""Property-based tests (hypothesis) of the readers, the schema loader and the codecs.

Readers: any well-formed delimited file reads back exactly (BOM, CRLF, quoted line
breaks and a declared tab separator included); any bytes after a valid header read
without an exception; any bytes at all fail, if they fail, with a one-line
:class:`~privsynth.errors.InputDataError`. Schema loader: any YAML document is a
schema or a :class:`~privsynth.errors.SchemaError`, and valid schemas survive a dump
and a load. Codecs: any cell encodes to a valid code, any code decodes inside the
public bounds, and decoding then encoding gives the codes back.
"""

from __future__ import annotations

import csv
import io
import math
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privsynth.domain.codecs import INVALID, CategoricalCodec, DatetimeCodec, NumericCodec
from privsynth.errors import InputDataError, PrivsynthError, SchemaError
from privsynth.io import read_header, read_rows
from privsynth.schema import Schema, dump_schema, load_schema
from privsynth.schema.io import schema_from_dict, schema_to_dict

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: any text a UTF-8 file can hold (no lone surrogates), NUL aside
CELL_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
#: column names: printable, unpadded (names are stripped when read)
NAME = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(NAME, min_size=1, max_size=5, unique=True))
    width = len(header)
    rows = draw(st.lists(st.lists(CELL_TEXT, min_size=width, max_size=width), max_size=8))
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]], bom: bool, crlf: bool) -> None:
    buffer = io.StringIO()
    delimiter = "\t" if path.suffix == ".tsv" else ","
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n" if crlf else "\n"
    )
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8"))


@SETTINGS
@given(
    table=tables(), bom=st.booleans(), crlf=st.booleans(), suffix=st.sampled_from([".csv", ".tsv"])
)
def test_delimited_files_read_back_exactly(
    tmp_path: Path, table: tuple[list[str], list[list[str]]], bom: bool, crlf: bool, suffix: str
) -> None:
    header, rows = table
    path = tmp_path / f"table{suffix}"
    _write(path, header, rows, bom, crlf)
    read = read_rows(path)
    assert read_header(path) == header
    assert list(read.frame.columns) == header
    assert (read.malformed_rows, read.undecodable_rows) == (0, 0)
    expected = [[None if cell == "" else cell for cell in row] for row in rows]
    got = [
        [None if pd.isna(cell) else cell for cell in row]
        for row in read.frame.itertuples(index=False)
    ]
    assert got == expected


@SETTINGS
@given(body=st.binary(max_size=400))
def test_any_bytes_after_a_header_read_without_failing(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"a,b\n" + body)
    read = read_rows(path)
    assert list(read.frame.columns) == ["a", "b"]
    assert (
        len(read.frame) + read.malformed_rows + read.undecodable_rows
        <= body.count(b"\n") + body.count(b"\r") + 1
    )


def _fails_cleanly(error: PrivsynthError) -> None:
    assert "\n" not in error.one_line()
    assert error.exit_code in (2, 3, 4)


@SETTINGS
@given(
    content=st.binary(max_size=300),
    suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".jsonl", ".txt"]),
)
def test_any_bytes_read_or_fail_with_an_input_error(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(content)
    try:
        read = read_rows(path)
    except InputDataError as error:
        _fails_cleanly(error)
    else:
        assert all(isinstance(name, str) and name for name in read.frame.columns)


@SETTINGS
@given(cut=st.floats(0.0, 0.999))
def test_truncated_parquet_fails_with_an_input_error(tmp_path: Path, cut: float) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}), whole)
    data = whole.read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: int(len(data) * cut)])
    try:
        read_rows(path)
    except InputDataError as error:
        _fails_cleanly(error)


# ------------------------------------------------------------------ the schema loader

JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KIND_FIELDS = {
    "numeric": st.fixed_dictionaries(
        {}, optional={"min": JSON_LIKE, "max": JSON_LIKE, "integer": JSON_LIKE, "bins": JSON_LIKE}
    ),
    "categorical": st.fixed_dictionaries(
        {}, optional={"categories": JSON_LIKE, "other_label": JSON_LIKE}
    ),
    "datetime": st.fixed_dictionaries(
        {},
        optional={
            "min": JSON_LIKE,
            "max": JSON_LIKE,
            "granularity": JSON_LIKE,
            "format": JSON_LIKE,
        },
    ),
}


@st.composite
def near_schemas(draw: st.DrawFn) -> Any:
    """Documents shaped like schemas, with arbitrary values where fields go."""
    columns = {}
    for name in draw(st.lists(st.text(min_size=1, max_size=6), max_size=3, unique=True)):
        kind = draw(st.sampled_from([*KIND_FIELDS, "identifier", "text", "auto", "bogus"]))
        fields = draw(KIND_FIELDS.get(kind, st.just({})))
        extra = draw(
            st.fixed_dictionaries(
                {}, optional={"nullable": JSON_LIKE, "role": JSON_LIKE, "data_derived": JSON_LIKE}
            )
        )
        columns[name] = {"kind": kind, **fields, **extra}
    top = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "version": JSON_LIKE,
                "rows": JSON_LIKE,
                "missing_values": JSON_LIKE,
                "privacy_unit": JSON_LIKE,
                "constraints": JSON_LIKE,
            },
        )
    )
    return {"columns": columns, **top}


@SETTINGS
@given(document=JSON_LIKE | near_schemas())
def test_any_document_is_a_schema_or_a_schema_error(document: Any) -> None:
    try:
        schema = schema_from_dict(document)
    except SchemaError as error:
        _fails_cleanly(error)
    else:
        assert isinstance(schema, Schema)


@SETTINGS
@given(
    content=st.binary(max_size=300)
    | st.text(alphabet=string.printable, max_size=300).map(str.encode)
)
def test_any_schema_file_loads_or_fails_with_a_schema_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "schema.yaml"
    path.write_bytes(content)
    try:
        load_schema(path)
    except SchemaError as error:
        _fails_cleanly(error)


FINITE = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def valid_schemas(draw: st.DrawFn) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name in draw(st.lists(NAME, min_size=1, max_size=4, unique=True)):
        kind = draw(st.sampled_from(["numeric", "categorical", "datetime"]))
        if kind == "numeric":
            low, high = sorted([draw(FINITE), draw(FINITE)])
            columns[name] = {"kind": kind, "min": low, "max": high, "integer": False}
        elif kind == "categorical":
            categories = draw(st.lists(CELL_TEXT.filter(bool), min_size=1, max_size=5, unique=True))
            columns[name] = {"kind": kind, "categories": categories}
        else:
            low, high = sorted(draw(st.lists(st.dates(), min_size=2, max_size=2)))
            columns[name] = {
                "kind": kind,
                "min": low.isoformat(),
                "max": high.isoformat(),
                "granularity": "day",
            }
    return {"version": 1, "columns": columns}


@SETTINGS
@given(document=valid_schemas())
def test_valid_schemas_survive_a_dump_and_a_load(tmp_path: Path, document: dict[str, Any]) -> None:
    schema = schema_from_dict(document)
    path = tmp_path / "schema.yaml"
    dump_schema(schema, path)
    again = load_schema(path)
    assert schema_to_dict(again) == schema_to_dict(schema)
    assert (
        yaml.safe_load(path.read_text(encoding="utf-8"))["columns"].keys()
        == document["columns"].keys()
    )


# ------------------------------------------------------------------ the codecs

ANY_CELLS = st.lists(
    st.none()
    | CELL_TEXT
    | FINITE.map(repr)
    | st.sampled_from(["inf", "-inf", "NaN", "1e400", "-0"]),
    max_size=30,
)


@st.composite
def numeric_codecs(draw: st.DrawFn) -> NumericCodec:
    integer = draw(st.booleans())
    bound = st.integers(-(2**70), 2**70).map(float) if integer else FINITE
    low, high = sorted([draw(bound), draw(bound)])
    bins = draw(st.none() | st.integers(1, 64))
    return NumericCodec("x", low, high, integer, bins, draw(st.booleans()))


@SETTINGS
@given(codec=numeric_codecs(), cells=ANY_CELLS, seed=st.integers(0, 2**32 - 1))
def test_numeric_codec_encodes_anything_and_decodes_inside_the_bounds(
    codec: NumericCodec, cells: list[str | None], seed: int
) -> None:
    codes = codec.encode(pd.Series(cells, dtype=object))
    assert codes.shape == (len(cells),)
    assert ((codes >= INVALID) & (codes < codec.size)).all()
    valid = np.arange(codec.size, dtype=np.int64)
    values = codec.decode(valid, np.random.default_rng(seed))
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(numbers)
    assert (numbers[present] >= codec.low).all() and (numbers[present] <= codec.high).all()
    assert present.sum() == codec.size - codec.nullable


@SETTINGS
@given(
    categories=st.lists(CELL_TEXT.filter(bool), min_size=1, max_size=6, unique=True),
    other=st.none() | st.just("<other>"),
    nullable=st.booleans(),
    cells=ANY_CELLS,
)
def test_categorical_codec_round_trips(
    categories: list[str], other: str | None, nullable: bool, cells: list[str | None]
) -> None:
    codec = CategoricalCodec("c", categories, other, nullable)
    codes = codec.encode(pd.Series(cells, dtype=object))
    assert ((codes >= INVALID) & (codes < codec.size)).all()
    valid = np.arange(codec.size, dtype=np.int64)
    decoded = codec.decode(valid, np.random.default_rng(0))
    if other is None or other not in categories:
        assert (codec.encode(decoded) == valid).all()


@SETTINGS
@given(
    bounds=st.lists(
        st.datetimes(
            min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
            max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
        ),
        min_size=2,
        max_size=2,
    ),
    granularity=st.sampled_from(["year", "month", "day", "hour", "minute", "second"]),
    cells=ANY_CELLS,
)
def test_datetime_codec_encodes_anything_and_round_trips(
    bounds: list[Any], granularity: str, cells: list[str | None]
) -> None:
    low, high = sorted(pd.Timestamp(b) for b in bounds)
    codec = DatetimeCodec("d", low, high, granularity, None, None, False)
    codes = codec.encode(pd.Series(cells, dtype=object))
    assert ((codes >= INVALID) & (codes < codec.size)).all()
    valid = np.arange(codec.size, dtype=np.int64)
    decoded = codec.decode(valid, np.random.default_rng(1))
    assert not decoded.isna().any()
    assert (codec.encode(decoded) == valid).all()
    assert math.isfinite(float(codec.size))
