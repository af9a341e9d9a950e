"""Reading and writing tables (CSV, Parquet), failing closed with one-line errors.

Reads never echo cell values in errors (they may be personal data). Writes go to
a temporary file beside the target and are renamed into place, so a failed run
never leaves a half-written output or replaces a previous good one.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from privsynth.errors import InputDataError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES


def table_format(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` from the file suffix, or a clear error."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
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
    if table_format(file) == "parquet":
        import pyarrow.parquet as pq

        try:
            return [str(name) for name in pq.read_schema(file).names]
        except Exception:
            raise InputDataError(f"{file.name} is not a readable Parquet file") from None
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, exc) from None
    return _check_header(file, header)


def _check_header(file: Path, header: Sequence[str]) -> list[str]:
    names = [name.strip() for name in header]
    if not names or all(not name for name in names):
        raise InputDataError(f"{file.name} has no header row", hint="add column names")
    if any(not name for name in names):
        raise InputDataError(f"{file.name} has an empty column name", hint="name every column")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputDataError(
            f"{file.name} repeats column names: {', '.join(duplicates)}",
            hint="give every column a unique name",
        )
    return names


def _not_utf8(file: Path, exc: UnicodeDecodeError) -> InputDataError:
    return InputDataError(
        f"{file.name} is not valid UTF-8 (first bad byte at offset {exc.start})",
        hint=f"re-encode it, e.g. iconv -f latin1 -t utf-8 {file.name}",
    )


def read_table(path: str | Path, missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """Read a CSV (all cells as strings, ``missing_values`` as NA) or a Parquet file."""
    file = Path(path)
    header = read_header(file)
    if table_format(file) == "parquet":
        frame = pd.read_parquet(file)
    else:
        frame = _read_csv(file, missing_values)
    frame.columns = pd.Index(header)
    if frame.empty:
        raise InputDataError(f"{file.name} has a header but no rows", hint="pass data rows")
    return frame


def _read_csv(file: Path, missing_values: Sequence[str]) -> pd.DataFrame:
    try:
        return pd.read_csv(
            file,
            dtype=str,
            keep_default_na=False,
            na_values=list(missing_values),
            encoding="utf-8",
            skipinitialspace=True,
        )
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, exc) from None
    except pd.errors.ParserError as exc:
        where = str(exc).split(":")[-1].strip()
        raise InputDataError(f"{file.name} is not well-formed CSV ({where})") from None


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path that replaces ``target`` only if the block succeeds."""
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def check_output_path(path: str | Path) -> Path:
    """Refuse an output path that cannot be written, before any budget is spent."""
    final = Path(path)
    table_format(final)
    if final.is_dir():
        raise InputDataError(f"output {final} is a directory", hint="name a file with -o")
    ancestor = final.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputDataError(
            f"cannot create output {final}: {ancestor} is a file", hint="choose another -o"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputDataError(f"no permission to write in {ancestor}", hint="choose another -o")
    if final.exists() and not os.access(final, os.W_OK):
        raise InputDataError(f"no permission to replace {final}", hint="choose another -o")
    return final


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV or Parquet (by suffix), atomically."""
    final = Path(path)
    fmt = table_format(final)
    with atomic_path(final) as temp:
        if fmt == "parquet":
            frame.to_parquet(temp, index=False)
        else:
            frame.to_csv(temp, index=False)
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
