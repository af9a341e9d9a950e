"""Public code systems: normalisation, hierarchy, counts of the CMS lists, suggestion."""

from __future__ import annotations

import time

import pytest

from privsynth.domain.code_systems import (
    CODE_SYSTEMS,
    ICD9_CHAPTERS,
    ICD10_CHAPTERS,
    CodeSystem,
    code_system,
    suggest_code_system,
)
from privsynth.errors import ConfigurationError


@pytest.fixture(scope="module")
def icd9() -> CodeSystem:
    return code_system("icd9cm")


@pytest.fixture(scope="module")
def icd10() -> CodeSystem:
    return code_system("icd10cm")


def test_registry_names_and_unknown_name_hint() -> None:
    assert CODE_SYSTEMS == ("icd10cm", "icd9cm")
    with pytest.raises(ConfigurationError) as caught:
        code_system("icd11")
    assert "icd11" in caught.value.message
    assert caught.value.hint == "choose one of: icd10cm, icd9cm"


def test_built_once_per_process() -> None:
    assert code_system("icd9cm") is code_system("icd9cm")
    assert code_system("icd10cm") is code_system("icd10cm")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250.83", "250.83"),
        ("25083", "250.83"),
        (" 250.83 ", "250.83"),
        ("V57", "V57"),
        ("v57", "V57"),
        ("V57.89", "V57.89"),
        ("V5789", "V57.89"),
        ("e885", "E885"),
        ("E885.9", "E885.9"),
        ("E8859", "E885.9"),
        ("428", "428"),
        ("428.0", "428.0"),
        ("4280", "428.0"),
        ("0010", "001.0"),
        ("001.0", "001.0"),
        ("042", "042"),  # a category that is itself billable
        ("250.8", "250.8"),  # a non-billable header
        # leading zeros lost through a number type
        ("8.45", "008.45"),
        ("38", "038"),
        ("38.0", "038.0"),
        ("8", "008"),
        # not ICD-9 codes
        ("250.830", None),
        ("428.00", None),  # 428.0 is billable: it has no 5th digit
        ("250.", None),
        ("E119", None),  # E-codes start at E000 and E800; E119 is no category
        ("E11.9", None),
        ("V92", None),
        ("MUS009", None),
        ("Home", None),
        ("?", None),
        ("", None),
        ("25 0.83", None),
    ],
)
def test_icd9_normalisation(icd9: CodeSystem, text: str, expected: str | None) -> None:
    assert icd9.normalise(text) == expected
    assert icd9.is_code(text) == (expected is not None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E11.9", "E11.9"),
        ("E119", "E11.9"),
        ("e11.9", "E11.9"),
        (" E11.9 ", "E11.9"),
        ("E11", "E11"),
        ("E11.6", "E11.6"),  # header of E11.64x
        ("E11.641", "E11.641"),
        ("I10", "I10"),  # billable category
        ("O9A.111", "O9A.111"),  # letter in the category
        ("T36.0X1A", "T36.0X1A"),  # placeholder X and 7th character
        ("T360X1A", "T36.0X1A"),
        ("T36.0X1", "T36.0X1"),  # header waiting for the 7th character
        ("T36.0X", None),  # a placeholder position is no header
        ("E11.99", None),
        ("250.83", None),
        ("E885", None),  # reads as E88.5, which does not exist
        ("MUS009", None),
        ("Home", None),
    ],
)
def test_icd10_normalisation(icd10: CodeSystem, text: str, expected: str | None) -> None:
    assert icd10.normalise(text) == expected


@pytest.mark.parametrize(
    ("name", "code", "ancestors"),
    [
        ("icd9cm", "250.83", ("250", "240-279")),
        ("icd9cm", "E885.9", ("E885", "E000-E999")),
        ("icd9cm", "V57.89", ("V57", "V01-V91")),
        ("icd9cm", "008.45", ("008", "001-139")),
        ("icd9cm", "250.8", ("250", "240-279")),  # headers hang under the category too
        ("icd9cm", "042", ("001-139",)),
        ("icd10cm", "E11.9", ("E11", "E00-E89")),
        ("icd10cm", "D49.0", ("D49", "C00-D49")),
        ("icd10cm", "K95.01", ("K95", "K00-K95")),
        ("icd10cm", "T36.0X1A", ("T36", "S00-T88")),
        ("icd10cm", "U07.1", ("U07", "U00-U85")),
    ],
)
def test_hierarchy(name: str, code: str, ancestors: tuple[str, ...]) -> None:
    system = code_system(name)
    assert system.ancestors(code) == ancestors
    assert system.parent(code) == ancestors[0]
    assert system.parent(ancestors[-1]) is None
    assert system.level(code) == len(ancestors)
    assert system.level(ancestors[-1]) == 0
    assert code in system.children(ancestors[0])


def test_hierarchy_accepts_any_spelling_and_refuses_non_codes(icd9: CodeSystem) -> None:
    assert icd9.parent("25083") == "250"
    assert icd9.parent("250") == "240-279"
    assert icd9.level("250") == 1
    assert icd9.ancestors("240-279") == ()
    with pytest.raises(ValueError, match="icd9cm") as caught:
        icd9.parent("Home")
    assert "Home" not in str(caught.value)  # messages never repeat a possible cell value


def test_children(icd9: CodeSystem) -> None:
    assert icd9.children("250")[:5] == ("250.0", "250.00", "250.01", "250.02", "250.03")
    assert "250.83" in icd9.children("250")
    assert icd9.children("250.83") == ()
    chapter = icd9.children("240-279")
    assert chapter[0] == "240" and chapter[-1] == "279"
    assert all(icd9.parent(category) == "240-279" for category in chapter)


def test_counts_of_the_cms_lists(icd9: CodeSystem, icd10: CodeSystem) -> None:
    # the files hold 14,567 ICD-9-CM v32 diagnosis codes and 74,044 ICD-10-CM FY2024 codes
    assert len(icd9.leaves()) == 14567
    assert len(icd10.leaves()) == 74044
    assert len(icd9.categories()) == 1234
    assert len(icd10.categories()) == 1917
    assert icd9.chapters() == tuple(label for label, _ in ICD9_CHAPTERS)
    assert len(icd9.chapters()) == 19
    assert len(icd10.chapters()) == 22
    assert icd9.chapter_title("240-279").startswith("Endocrine")
    assert icd10.chapter_title("C00-D49") == "Neoplasms"


@pytest.mark.parametrize("name", ["icd9cm", "icd10cm"])
def test_every_node_sits_in_one_consistent_tree(name: str) -> None:
    system = code_system(name)
    chapters = set(system.chapters())
    categories = set(system.categories())
    leaves = set(system.leaves())
    codes = set(system.codes())
    assert leaves <= codes and categories <= codes and not chapters & codes
    assert all(system.parent(c) in chapters for c in categories)
    assert all(system.parent(c) in categories for c in codes - categories)
    assert all(system.normalise(c) == c for c in codes)  # normalised form is a fixed point
    # every category falls in exactly one chapter range
    ranges = ICD9_CHAPTERS if name == "icd9cm" else ICD10_CHAPTERS
    for category in categories:
        holding = [
            label
            for label, _ in ranges
            if len(category) == len(label.split("-")[0])
            and label.split("-")[0] <= category <= label.split("-")[1]
        ]
        assert holding == [system.parent(category)]
    # every chapter holds codes
    assert all(system.children(chapter) for chapter in chapters)


def test_leaves_are_billable_and_categories_are_values(icd9: CodeSystem) -> None:
    assert icd9.is_billable("250.83") and icd9.is_billable("042")
    assert not icd9.is_billable("428") and not icd9.is_billable("250.8")
    for category in ("428", "V57", "E885"):
        assert icd9.is_code(category)
        assert icd9.level(category) == 1
        assert category not in icd9.leaves()


def test_matches(icd9: CodeSystem) -> None:
    assert icd9.matches(["250.83", "428", "Home", None, "", float("nan")]) == pytest.approx(2 / 3)
    assert icd9.matches([None, " "]) == 0.0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # ICD-9 as in a hospital extract: dotted, categories alone, V and E codes, "?" missing
        (["250.83", "428", "V57", "E885", "8", "414", "250.01"] * 20 + ["?"], "icd9cm"),
        # MIMIC-style undotted ICD-9
        (["4019", "25000", "V5861", "4280", "E8798", "0389"] * 5, "icd9cm"),
        (["E11.9", "I10", "J45.909", "Z79.4", "E78.5", "N18.3"] * 5, "icd10cm"),
        (["E119", "I10", "J45909", "Z794"], "icd10cm"),
        # not code columns
        (["MUS009", "Home", "351"] * 10, None),
        (["Home", "Emergency", "Transfer", "Home"], None),
        # small integers are mostly ICD-9 categories, but written as plain numbers
        ([str(n) for n in range(1, 400)], None),
        (["351", "352", "353", "354"], None),
        # too few distinct codes to tell
        (["V57", "V57", "428"], None),
        ([], None),
        ([None, ""], None),
    ],
)
def test_suggest_code_system(values: list[str | None], expected: str | None) -> None:
    assert suggest_code_system(values) == expected


def test_suggestion_tolerates_a_few_non_codes_but_not_many() -> None:
    codes = ["250.83", "428", "V57", "E885", "414", "786.5", "V45.81", "038"] * 12
    assert suggest_code_system([*codes, "Home"]) == "icd9cm"  # 1 in 97
    assert suggest_code_system(codes + ["Home"] * 20) is None  # 20 in 116


def test_lookups_are_fast(icd10: CodeSystem) -> None:
    texts = ["E11.9", "e119", "T36.0X1A", "Home"] * 5000
    start = time.perf_counter()
    for text in texts:
        icd10.normalise(text)
    assert time.perf_counter() - start < 1.0  # ~5 µs each here; 50 µs is a generous ceiling
