"""Hostile and awkward input files, written at test time (nothing large is committed).

Each :class:`Hostile` writes one file into a folder and says what kind of failure it
may cause: ``pre_row`` files are refused on their structure (size, header, encoding of
the header, Parquet footer) before a row is read, so the ledger must stay byte-identical;
the others depend on the rows and may be charged. :data:`VALID` files are awkward but
well-formed: every command must accept them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROWS = 200  # enough rows for a fit to run, few enough to keep it fast


@dataclass(frozen=True)
class Hostile:
    """One input file: its name, how to write it, and what it may do to a run."""

    id: str
    suffix: str
    write: Callable[[Path], None]
    #: refused before any row is read: the ledger stays byte-identical
    pre_row: bool = False
    #: awkward but valid: every command must accept it
    valid: bool = False
    #: generated large input: only in the slow set
    slow: bool = False

    def make(self, folder: Path) -> Path:
        path = folder / f"{self.id}{self.suffix}"
        self.write(path)
        return path


def _text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content.encode(encoding))

    return write


def _raw(content: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content)

    return write


def _rows(header: str, make_row: Callable[[int], str], rows: int = ROWS, end: str = "\n") -> str:
    return end.join([header, *(make_row(i) for i in range(rows))]) + end


#: the columns of every valid file, and a public schema declaring them
VALID_COLUMNS = ["age", "colour"]
QUOTED = ("red", '"blue\nish, dark"')
VALID_SCHEMA = {
    "version": 1,
    "columns": {
        "age": {"kind": "numeric", "min": 0, "max": 100, "integer": True},
        "colour": {
            "kind": "categorical",
            "categories": ["red", "green", "blue", "blue\nish, dark"],
        },
    },
}


def _plain() -> str:
    """A small well-formed table: a number and a category."""
    return _rows("age,colour", lambda i: f"{20 + i % 50},{('red', 'green', 'blue')[i % 3]}")


def _distinct(count: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        lines = ["id,group", *(f"v{i},{i % 2}" for i in range(count))]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return write


def _wide(columns: int, rows: int = 5) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        header = ",".join(f"c{j}" for j in range(columns))
        body = [",".join(str((i + j) % 3) for j in range(columns)) for i in range(rows)]
        path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")

    return write


def _parquet_nested(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "age": pa.array([20 + i % 50 for i in range(ROWS)], pa.int64()),
            "tags": pa.array([[f"t{i % 3}", "x"] for i in range(ROWS)], pa.list_(pa.string())),
            "where": pa.array(
                [{"city": f"c{i % 4}", "zip": i % 7} for i in range(ROWS)],
                pa.struct([("city", pa.string()), ("zip", pa.int64())]),
            ),
            "blob": pa.array([bytes([i % 256, 0xFF, 0x00]) for i in range(ROWS)], pa.binary()),
        }
    )
    pq.write_table(table, path)


def _parquet_truncated(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"age": list(range(ROWS)), "colour": ["red"] * ROWS})
    pq.write_table(table, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _parquet_garbage(path: Path) -> None:
    path.write_bytes(b"PAR1" + b"\x00\x17not a footer" * 8 + b"PAR1")


CSV = ".csv"
HOSTILE: tuple[Hostile, ...] = (
    Hostile("empty", CSV, _raw(b""), pre_row=True),
    Hostile("blank_lines", CSV, _text("\n\n\n"), pre_row=True),
    Hostile("header_only", CSV, _text("age,colour\n")),
    Hostile("one_row", CSV, _text("age,colour\n40,red\n")),
    Hostile("all_missing_column", CSV, _text(_rows("age,colour", lambda i: f"{20 + i},"))),
    Hostile("header_not_utf8", CSV, _raw(b"age,col\xe9ur\n40,red\n41,blue\n"), pre_row=True),
    Hostile(
        "rows_not_utf8",
        CSV,
        _raw(_plain().encode() + b"".join(b"%d,r\xe9d\n" % i for i in range(ROWS))),
    ),
    Hostile("latin1_everywhere", CSV, _text(_plain().replace("red", "rouge\xe9"), "latin-1")),
    Hostile("duplicate_names", CSV, _text(_rows("age,age", lambda i: f"{i},{i}")), pre_row=True),
    Hostile("empty_name", CSV, _text(_rows("age,", lambda i: f"{i},x")), pre_row=True),
    Hostile("blank_name", CSV, _text(_rows("age,  ", lambda i: f"{i},x")), pre_row=True),
    Hostile(
        "names_differ_by_space", CSV, _text(_rows("age, age", lambda i: f"{i},{i}")), pre_row=True
    ),
    Hostile("unicode_names", CSV, _text(_rows("âge,名前,🙂", lambda i: f"{i},n{i % 3},x"))),
    Hostile(
        "quote_bearing_names", CSV, _text(_rows('"a""b","c,d",\'e\'', lambda i: f"{i},{i % 2},z"))
    ),
    Hostile("ragged_rows", CSV, _text(_plain() + "1,2,3\n4\n" * 5)),
    Hostile(
        "mixed_types",
        CSV,
        _text(_rows("value,colour", lambda i: [f"{i}", "x", f"{i}.5", "true"][i % 4] + ",red")),
    ),
    Hostile(
        "huge_tiny_numbers",
        CSV,
        _text(_rows("x,y", lambda i: ["1e308", "-1e308", "5e-324", "1" * 400][i % 4] + f",{i}")),
    ),
    Hostile(
        "inf_nan_strings",
        CSV,
        _text(_rows("x,y", lambda i: ["inf", "-Infinity", "NaN", "nan", "1.5"][i % 5] + f",{i}")),
    ),
    Hostile(
        "malformed_dates",
        CSV,
        _text(
            _rows(
                "when,n",
                lambda i: (
                    [
                        "2020-13-45",
                        "2020-01-01T00:00:00+25:00",
                        "2020-02-30",
                        "2020-01-01T10:00:00Z",
                        "2020-01-01 10:00:00 Mars/Olympus",
                        "0000-00-00",
                    ][i % 6]
                    + f",{i}"
                ),
            )
        ),
    ),
    Hostile("parquet_nested_binary", ".parquet", _parquet_nested),
    Hostile("parquet_truncated", ".parquet", _parquet_truncated, pre_row=True),
    Hostile("parquet_garbage", ".parquet", _parquet_garbage, pre_row=True),
    Hostile("binary_garbage", CSV, _raw(bytes(range(256)) * 4), pre_row=True),
    Hostile("wide_10k_columns", CSV, _wide(10_000), slow=True),
    Hostile("distinct_1m_values", CSV, _distinct(1_000_000), slow=True),
)

VALID: tuple[Hostile, ...] = (
    Hostile("utf8_bom", CSV, _text("\ufeff" + _plain()), valid=True),
    Hostile("crlf", CSV, _text(_plain().replace("\n", "\r\n")), valid=True),
    Hostile(
        "quoted_newlines",
        CSV,
        _text(_rows("age,colour", lambda i: f"{20 + i % 50}," + QUOTED[i % 2])),
        valid=True,
    ),
    Hostile("bom_crlf_quoted", CSV, _text("\ufeff" + _plain().replace("\n", "\r\n")), valid=True),
    Hostile(
        "tab_separated",
        ".tsv",
        _text(_plain().replace(",", "\t")),
        valid=True,
    ),
)
