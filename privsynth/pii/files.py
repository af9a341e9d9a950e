"""Scrubbing files: tables (CSV, Parquet), JSON Lines and plain text.

Every reader fails closed with a one-line error naming the file and line, never the
content; outputs are written atomically so a failed run leaves no partial file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privsynth.errors import InputDataError
from privsynth.io import atomic_path, read_table, table_format, write_table
from privsynth.pii.scrub import Scrubber, ScrubReport

TEXT_SUFFIXES = (".jsonl", ".txt")


def scrub_file(
    scrubber: Scrubber,
    source: str | Path,
    target: str | Path,
    text_field: str = "text",
    roles: dict[str, str] | None = None,
) -> ScrubReport:
    """Scrub ``source`` into ``target`` (same format) and return the report."""
    source, target = Path(source), Path(target)
    suffix = source.suffix.lower()
    if suffix == ".jsonl":
        return _scrub_jsonl(scrubber, source, target, text_field)
    if suffix == ".txt":
        return _scrub_txt(scrubber, source, target)
    table_format(source)  # a clear error for unsupported extensions
    frame = read_table(source)
    scrubbed, report = scrubber.scrub_frame(frame, roles)
    write_table(scrubbed, target)
    return report


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise InputDataError(f"input file {path} does not exist", hint="check the path")
    try:
        with path.open(encoding="utf-8-sig") as handle:
            yield from enumerate(handle, start=1)
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"{path.name} is not valid UTF-8 (byte offset {exc.start})",
            hint=f"re-encode it, e.g. iconv -f latin1 -t utf-8 {path.name}",
        ) from None


def _records(path: Path, text_field: str) -> Iterator[dict[str, Any]]:
    for number, line in _read_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InputDataError(f"{path.name} line {number} is not valid JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            raise InputDataError(
                f"{path.name} line {number} has no text field {text_field!r}",
                hint="name the field with `text_field`",
            )
        yield record


def _scrub_jsonl(scrubber: Scrubber, source: Path, target: Path, field: str) -> ScrubReport:
    report = ScrubReport(scrubber.config.policy, scrubber.config.operator)
    records = list(_records(source, field))
    if not records:
        raise InputDataError(f"{source.name} has no records", hint="one JSON object per line")
    texts = (record[field] for record in records)
    with atomic_path(target) as temp, temp.open("w", encoding="utf-8") as out:
        for record, text in zip(records, scrubber.scrub_texts(texts, report, field), strict=True):
            out.write(json.dumps({**record, field: text}, ensure_ascii=False) + "\n")
    report.records = len(records)
    return report


def _scrub_txt(scrubber: Scrubber, source: Path, target: Path) -> ScrubReport:
    """Plain text is scrubbed paragraph by paragraph (blank-line separated)."""
    report = ScrubReport(scrubber.config.policy, scrubber.config.operator)
    text = "".join(line for _, line in _read_lines(source))
    if not text.strip():
        raise InputDataError(f"{source.name} is empty", hint="pass a file with text")
    paragraphs = text.split("\n\n")
    scrubbed = list(scrubber.scrub_texts(paragraphs, report, "text"))
    with atomic_path(target) as temp:
        temp.write_text("\n\n".join(scrubbed), encoding="utf-8")
    report.records = len(paragraphs)
    return report
