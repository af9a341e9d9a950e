"""Reading and writing tables (CSV, Parquet), failing closed with one-line errors.

Reads never echo cell values in errors (they may be personal data). Writes go to
a temporary file beside the target and are renamed into place, so a failed run
never leaves a half-written output or replaces a previous good one.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from privsynth.cells import canonical_column, mark_missing
from privsynth.errors import InputDataError, OutputError
from privsynth.text_files import (
    JSONL_SUFFIXES,
    TEXT_COLUMN,
    TEXT_SUFFIXES,
    jsonl_header,
    read_jsonl_rows,
    read_text_rows,
    write_jsonl,
    write_text,
)

CSV_SUFFIXES = (".csv", ".tsv")
#: the field separator of each delimited suffix (``.tsv``: tab; otherwise a comma)
_DELIMITERS = {".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES + TEXT_SUFFIXES + JSONL_SUFFIXES
#: bytes that are not UTF-8 decode to lone surrogates under ``errors="surrogateescape"``
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_MAX_FIELD = 1 << 30
#: UTF-8, ignoring the byte-order mark that spreadsheet programs write
_ENCODING = "utf-8-sig"


def table_format(path: Path) -> str:
    """``"csv"``, ``"parquet"``, ``"text"`` or ``"jsonl"`` from the file suffix, or a
    clear error."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise InputDataError(
        f"{path.name} has unsupported extension {suffix or '(none)'!r}",
        hint=f"use one of: {', '.join(SUPPORTED)}",
    )


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputDataError(f"input file {path} does not exist", hint="check the path")
    if not path.is_file():
        raise InputDataError(f"input {path} is not a file", hint="pass a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise InputDataError(f"input file {path} is empty", hint="pass a file with a header row")


def read_header(path: str | Path) -> list[str]:
    """Column names only: what may be checked before the data itself is read."""
    file = Path(path)
    _check_readable(file)
    fmt = table_format(file)
    if fmt == "text":
        return [TEXT_COLUMN]
    if fmt == "jsonl":
        return _check_header(file, jsonl_header(file))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return [str(name) for name in pq.read_schema(file).names]
        except Exception:
            raise InputDataError(f"{file.name} is not a readable Parquet file") from None
    with _open_text(file) as handle:
        header = next(csv.reader(handle, delimiter=delimiter(file)), [])
    if _NOT_UTF8.search("".join(header)):
        raise InputDataError(
            f"the header of {file.name} is not valid UTF-8",
            hint=f"re-encode the file, e.g. iconv -f latin1 -t utf-8 {file.name}",
        )
    return _check_header(file, header)


def delimiter(path: Path) -> str:
    """The field separator of a delimited file, declared by its suffix (``.tsv``: tab)."""
    return _DELIMITERS.get(path.suffix.lower(), ",")


def _open_text(file: Path) -> TextIO:
    """The file as text; bytes that are not UTF-8 become lone surrogates (found later)."""
    return file.open(encoding=_ENCODING, errors="surrogateescape", newline="")


def _check_header(file: Path, header: Sequence[str]) -> list[str]:
    names = [name.strip() for name in header]
    if not names or all(not name for name in names):
        raise InputDataError(f"{file.name} has no header row", hint="add column names")
    if any(not name for name in names):
        raise InputDataError(f"{file.name} has an empty column name", hint="name every column")
    if any(_has_control(name) for name in names):
        raise InputDataError(
            f"the header of {file.name} holds control characters (is it a binary file?)",
            hint="pass a CSV, Parquet, JSON Lines or text file with printable column names",
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputDataError(
            f"{file.name} repeats column names: {', '.join(duplicates)}",
            hint="give every column a unique name",
        )
    return names


def _has_control(name: str) -> bool:
    """Whether a column name holds a control character (NUL, escape, line breaks...)."""
    return any(unicodedata.category(char) == "Cc" for char in name)


@dataclass(frozen=True)
class TableRead:
    """A table read cell by cell, and how many input rows were left out.

    The counts are exact, hence private: the pipeline releases them only through a
    DP measurement (``privsynth.quality``), never as they are."""

    frame: pd.DataFrame
    #: CSV rows whose number of fields differs from the header's
    malformed_rows: int = 0
    #: CSV rows holding bytes that are not UTF-8
    undecodable_rows: int = 0


def read_rows(path: str | Path, missing_values: Sequence[str] = ("",)) -> TableRead:
    """Read a CSV or Parquet file without failing on its content.

    Every cell becomes canonical text (:mod:`privsynth.cells`) on its own; CSV rows
    with the wrong number of fields or with bytes that are not UTF-8 are left out
    and counted. Only the file as a whole (missing, empty, unreadable header, corrupt
    Parquet) can fail, so whether a run fails never depends on one record."""
    file = Path(path)
    header = read_header(file)
    fmt = table_format(file)
    if fmt == "parquet":
        return TableRead(_read_parquet(file, header, missing_values))
    if fmt == "text":
        frame, undecodable = read_text_rows(file, missing_values)
        return TableRead(frame, 0, undecodable)
    if fmt == "jsonl":
        return TableRead(*read_jsonl_rows(file, header, missing_values))
    return _read_csv_rows(file, header, missing_values)


def read_table(path: str | Path, missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """Read a CSV or Parquet file for the custodian's own tools (scrub, evaluate,
    audit, schema infer), failing on malformed rows or non-UTF-8 bytes."""
    file = Path(path)
    read = read_rows(file, missing_values)
    if read.undecodable_rows:
        raise InputDataError(
            f"{file.name} is not valid UTF-8",
            hint=f"re-encode it, e.g. iconv -f latin1 -t utf-8 {file.name}",
        )
    if read.malformed_rows:
        raise InputDataError(
            f"{file.name} is not well-formed CSV (rows with another number of fields than "
            "the header)",
            hint="quote fields that contain commas, or fix the rows",
        )
    if read.frame.empty:
        raise InputDataError(f"{file.name} has a header but no rows", hint="pass data rows")
    return read.frame


def _read_parquet(file: Path, header: list[str], missing_values: Sequence[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
    except Exception:
        raise InputDataError(f"{file.name} is not a readable Parquet file") from None
    columns = {
        name: canonical_column(table.column(position).to_pylist())
        for position, name in enumerate(header)
    }
    return mark_missing(pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows)), missing_values)


def _read_csv_rows(file: Path, header: list[str], missing_values: Sequence[str]) -> TableRead:
    rows: list[list[str]] = []
    malformed = undecodable = 0
    with (
        _csv_field_limit(),
        file.open(encoding=_ENCODING, errors="surrogateescape", newline="") as f,
    ):
        reader = csv.reader(f, delimiter=delimiter(file), skipinitialspace=True)
        next(reader, None)  # the header, already checked
        for row in reader:
            if not row:
                continue  # a blank line is no record
            if len(row) != len(header):
                malformed += 1
            elif _NOT_UTF8.search("".join(row)):
                undecodable += 1
            else:
                rows.append(row)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    frame = pd.DataFrame(
        {name: pd.Series(cells, dtype=object) for name, cells in zip(header, columns, strict=True)},
        index=pd.RangeIndex(len(rows)),
    )
    return TableRead(mark_missing(frame, missing_values), malformed, undecodable)


@contextmanager
def _csv_field_limit() -> Iterator[None]:
    """Let long free-text cells through the csv module (its default limit is 128 KiB)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(_MAX_FIELD)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path that replaces ``target`` only if the block succeeds."""
    final = Path(target)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
        os.close(handle)
    except OSError as exc:
        raise _output_error(final, exc) from None
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, final)
    except OSError as exc:
        raise _output_error(final, exc) from None
    finally:
        temp.unlink(missing_ok=True)


def _output_error(final: Path, exc: OSError) -> OutputError:
    """One line naming the file and the system's reason (no data in either)."""
    reason = exc.strerror or type(exc).__name__
    return OutputError(
        f"cannot write {final}: {reason}; the earlier file there, if any, is unchanged",
        hint="free space on that disk, raise the file size limit, or write to a writable folder",
    )


def check_output_path(path: str | Path) -> Path:
    """Refuse a table output path that cannot be written, before any budget is spent."""
    table_format(Path(path))
    return check_writable_file(path)


def check_writable_file(path: str | Path) -> Path:
    """Refuse an output file path that is a folder, lies below a file, or may not be
    written (any format), before anything is read."""
    final = Path(path)
    if final.is_dir():
        raise InputDataError(f"output {final} is a directory", hint="name a file as `output`")
    ancestor = final.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputDataError(
            f"cannot create output {final}: {ancestor} is a file", hint="choose another `output`"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputDataError(
            f"no permission to write in {ancestor}", hint="choose another `output`"
        )
    if final.exists() and not os.access(final, os.W_OK):
        raise InputDataError(f"no permission to replace {final}", hint="choose another `output`")
    return final


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV, Parquet, JSON lines or text lines (by suffix), atomically."""
    final = Path(path)
    fmt = table_format(final)
    with atomic_path(final) as temp:
        if fmt == "parquet":
            frame.to_parquet(temp, index=False)
        elif fmt == "jsonl":
            write_jsonl(frame, temp)
        elif fmt == "text":
            write_text(frame, temp)
        else:
            frame.to_csv(temp, index=False, sep=delimiter(final))
    return final


def fingerprint(source: str | Path | pd.DataFrame) -> str:
    """SHA-256 of a file's bytes, or of a frame's CSV rendering: identifies an exact
    input or output (in ledgers and reports) without containing it."""
    digest = hashlib.sha256()
    if isinstance(source, pd.DataFrame):
        digest.update(source.to_csv(index=False).encode("utf-8"))
    else:
        with Path(source).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
