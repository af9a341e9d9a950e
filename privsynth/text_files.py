"""Free-text inputs: a ``.txt`` file (one document per line, column ``text``) and a
``.jsonl`` file (one JSON object per line; its keys are the columns).

Read like CSV files (:mod:`privsynth.io`): nothing about one record makes the read fail;
lines that are not UTF-8 or not a JSON object with the header's keys are left out and
counted (exact counts: released only through DP). The header of a ``.jsonl`` file is the
key list of its first object: structure, not content. Values become canonical text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from privsynth.cells import canonical_column, mark_missing
from privsynth.errors import InputDataError

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
#: the column of a ``.txt`` file's documents
TEXT_COLUMN = "text"
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _lines(file: Path) -> Iterator[str]:
    """Non-blank lines, undecodable bytes as lone surrogates (counted by the caller)."""
    with file.open(encoding="utf-8-sig", errors="surrogateescape") as handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\r\n")


def _object(line: str) -> dict[str, object] | None:
    try:
        found = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def jsonl_header(file: Path) -> list[str]:
    """The keys of the first object."""
    first = next(_lines(file), None)
    if first is None:
        raise InputDataError(f"{file.name} has no records", hint="one JSON object per line")
    if _NOT_UTF8.search(first):
        raise InputDataError(
            f"the first line of {file.name} is not valid UTF-8",
            hint=f"re-encode the file, e.g. iconv -f latin1 -t utf-8 {file.name}",
        )
    found = _object(first)
    if found is None or not found:
        raise InputDataError(
            f"the first line of {file.name} is not a JSON object",
            hint='write one object per line, e.g. {"text": "...", "specialty": "..."}',
        )
    return [str(key) for key in found]


def read_text_rows(file: Path, missing: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """A ``.txt`` file's documents; the count of lines that are not UTF-8."""
    documents, undecodable = [], 0
    for line in _lines(file):
        if _NOT_UTF8.search(line):
            undecodable += 1
        else:
            documents.append(line)
    frame = pd.DataFrame({TEXT_COLUMN: pd.Series(documents, dtype=object)})
    return mark_missing(frame, missing), undecodable


def read_jsonl_rows(
    file: Path, header: list[str], missing: Sequence[str]
) -> tuple[pd.DataFrame, int, int]:
    """A ``.jsonl`` file's records; counts of malformed and of undecodable lines."""
    records: list[list[object]] = []
    malformed = undecodable = 0
    keys = set(header)
    for line in _lines(file):
        if _NOT_UTF8.search(line):
            undecodable += 1
            continue
        found = _object(line)
        if found is None or set(found) != keys:
            malformed += 1
            continue
        records.append([found[name] for name in header])
    columns = list(zip(*records, strict=True)) if records else [() for _ in header]
    frame = pd.DataFrame(
        {name: canonical_column(list(cells)) for name, cells in zip(header, columns, strict=True)},
        index=pd.RangeIndex(len(records)),
    )
    return mark_missing(frame, missing), malformed, undecodable


def write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    """One JSON object per row (missing values as null)."""
    frame.to_json(path, orient="records", lines=True, force_ascii=False)


def write_text(frame: pd.DataFrame, path: Path) -> None:
    """One document per line: a one-column table only (line breaks become spaces)."""
    if len(frame.columns) != 1:
        raise InputDataError(
            f"a .txt output holds one column of text, this table has {len(frame.columns)}",
            hint="write .csv, .parquet or .jsonl",
        )
    values = frame.iloc[:, 0].fillna("").astype(str).str.replace(r"\s*[\r\n]+\s*", " ", regex=True)
    path.write_text("".join(f"{v}\n" for v in values), encoding="utf-8")
