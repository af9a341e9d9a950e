"""A UTF-8 byte-order mark (as spreadsheet programs and Windows editors write it) is
not part of the first column name, the first JSON record or the first document."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_inprocess import Cli

from privsynth.io import read_header, read_rows

BOM = b"\xef\xbb\xbf"
JSONL = b'{"text": "see you at noon", "id": 1}\n{"text": "fine", "id": 2}\n'
TEXT = b"hello there\n\nsecond paragraph\n"
#: pii/files.py `_read_lines` opens files as "utf-8", not "utf-8-sig"


@pytest.mark.parametrize(
    ("name", "content", "columns"),
    [
        ("table.csv", b"age,colour\n40,red\n", ["age", "colour"]),
        ("table.tsv", b"age\tcolour\n40\tred\n", ["age", "colour"]),
        ("notes.jsonl", JSONL, ["text", "id"]),
        ("notes.txt", TEXT, ["text"]),
    ],
)
def test_readers_drop_the_mark(
    tmp_path: Path, name: str, content: bytes, columns: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(BOM + content)
    assert read_header(path) == columns
    read = read_rows(path)
    assert list(read.frame.columns) == columns
    assert not read.frame.astype(str).apply(lambda c: c.str.contains("\ufeff")).any().any()
    assert (read.malformed_rows, read.undecodable_rows) == (0, 0)


def test_scrub_reads_json_lines_with_a_mark(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "notes.jsonl"
    source.write_bytes(BOM + JSONL)
    outcome = cli("scrub", source, "-o", tmp_path / "out.jsonl")
    assert outcome.code == 0, outcome.stderr


def test_scrub_of_text_does_not_copy_the_mark(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(BOM + TEXT)
    outcome = cli("scrub", source, "-o", tmp_path / "out.txt")
    assert outcome.code == 0, outcome.stderr
    assert not (tmp_path / "out.txt").read_bytes().startswith(BOM)


def test_synthesize_output_header_has_no_mark(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    rows = "".join(f"{20 + i % 50},{('red', 'green', 'blue')[i % 3]}\n" for i in range(200))
    source.write_bytes(BOM + ("age,colour\n" + rows).encode())
    schema = tmp_path / "public.yaml"
    schema.write_text(
        "version: 1\ncolumns:\n  age: {kind: numeric, min: 0, max: 100, integer: true}\n"
        "  colour: {kind: categorical, categories: [red, green, blue]}\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.csv"
    outcome = cli(
        "synthesize", source, "-e", "5", "--generator", "independent", "--schema", schema,
        "--ledger", tmp_path / "ledger.db", "-o", output, "-q",
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert output.read_bytes().startswith(b"age,colour\n")
