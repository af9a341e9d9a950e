"""Reading private tables: cell by cell, never failing on a record's content.

Real data (UCI Adult sample) written as CSV and Parquet, with defects added.
"""

from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.cells import canonical_cell, canonical_frame
from privsynth.errors import InputDataError
from privsynth.io import read_header, read_rows, read_table

COLUMNS = ["age", "sex", "race", "income"]


@pytest.fixture(scope="module")
def adult4(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame[COLUMNS].head(500).reset_index(drop=True)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (1.0, "1"),
        (np.int64(7), "7"),
        (np.float32(2.5), "2.5"),
        (decimal.Decimal("3.00"), "3"),
        (decimal.Decimal("3.10"), "3.10"),
        (True, "True"),
        (float("nan"), None),
        (None, None),
        (pd.NA, None),
        (pd.NaT, None),
        (float("inf"), "inf"),
        (1e300, "1e+300"),
        (pd.Timestamp("2020-01-02T03:04:05+01:00"), "2020-01-02T03:04:05+01:00"),
        (b"caf\xc3\xa9", "café"),
        ("  spaced ", "  spaced "),
    ],
)
def test_each_cell_has_one_canonical_text(value: object, text: str | None) -> None:
    assert canonical_cell(value) == text


def test_a_missing_value_does_not_change_the_other_cells_of_its_column() -> None:
    """pandas turns an integer column with one missing value into floats ("1" → "1.0"),
    which made discovered labels depend on all rows together."""
    whole = canonical_frame(pd.DataFrame({"code": [1, 2, 3]}))
    holed = canonical_frame(pd.DataFrame({"code": [1, None, 3]}))
    assert whole["code"].tolist() == ["1", "2", "3"]
    assert holed["code"].tolist() == ["1", None, "3"]


def test_parquet_and_csv_of_the_same_table_read_the_same(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "code": pd.array([1, None, 30000000000000001], dtype="Int64"),
            "dose": [0.5, 1.0, None],
            "flag": [True, False, None],
            "name": ["a", "", "c"],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    parquet = read_rows(tmp_path / "t.parquet").frame
    assert parquet["code"].tolist() == ["1", None, "30000000000000001"]  # exact, not a float
    assert parquet["dose"].tolist() == ["0.5", "1", None]
    assert parquet["name"].tolist() == ["a", None, "c"]  # "" is missing, as in CSV
    (tmp_path / "t.csv").write_text(
        "code,dose,flag,name\n1,0.5,True,a\n,1,False,\n30000000000000001,,,c\n"
    )
    csv = read_rows(tmp_path / "t.csv").frame
    pd.testing.assert_frame_equal(parquet, csv)


def test_bad_rows_are_left_out_and_counted(tmp_path: Path, adult4: pd.DataFrame) -> None:
    lines = adult4.to_csv(index=False).encode("utf-8").splitlines()
    lines[5] += b",extra"
    lines[6] = lines[6].split(b",")[0]
    lines[7] = lines[7].replace(b",", b"\xe4,", 1)  # a Latin-1 byte in the first cell
    lines.insert(8, b"")  # a blank line is no record
    source = tmp_path / "bad.csv"
    source.write_bytes(b"\n".join(lines) + b"\n")
    read = read_rows(source)
    assert (read.malformed_rows, read.undecodable_rows) == (2, 1)
    assert len(read.frame) == len(adult4) - 3
    with pytest.raises(InputDataError) as caught:
        read_table(source)  # the custodian's tools still refuse such a file
    assert "row" not in caught.value.message.split("(")[0].replace("rows", "")


def test_a_byte_order_mark_and_quoted_fields(tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes('\ufeffname,note\n"Doe, Jane","said ""hi"""\n'.encode())
    assert read_header(source) == ["name", "note"]
    assert read_rows(source).frame.iloc[0].tolist() == ["Doe, Jane", 'said "hi"']


def test_header_problems_are_the_only_reading_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"n\xe4me,age\nx,1\n")
    with pytest.raises(InputDataError, match="header"):
        read_rows(latin)
    only_header = tmp_path / "header.csv"
    only_header.write_text("a,b\n", encoding="utf-8")
    assert read_rows(only_header).frame.empty  # no error: emptiness is told with DP
    body = tmp_path / "body.csv"
    body.write_bytes(b"a,b\n" + b"x,1\n" * 5000 + b"\xff\xfe,2\n")
    read = read_rows(body)  # a bad byte after the first block does not fail the header
    assert (len(read.frame), read.undecodable_rows) == (5000, 1)


def test_tab_separated_file_reads_and_writes_with_tabs(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    from privsynth.io import write_table

    path = write_table(adult4, tmp_path / "adult4.tsv")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "\t".join(COLUMNS)
    read = read_rows(path)
    assert read_header(path) == COLUMNS
    pd.testing.assert_frame_equal(read.frame, adult4.astype(object), check_dtype=False)


@pytest.mark.parametrize("name", ["a\x00b", "a\x1bb", "tab\there"])
def test_header_with_control_characters_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "binary.csv"
    path.write_text(f'"{name}",b\n1,2\n', encoding="utf-8")
    with pytest.raises(InputDataError, match="control characters"):
        read_header(path)
