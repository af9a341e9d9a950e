"""privsynth.text.refill: placeholders -> consistent, realistic fake values."""

from __future__ import annotations

import datetime
import re

import numpy as np
import pytest

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.text.placeholders import PLACEHOLDER_PATTERN, PLACEHOLDER_TYPES, all_placeholders
from privsynth.text.refill import MAX_AGE, MIN_AGE, refill, refill_with_counts

#: what any angle-bracket token left in an output would look like
_TAG = re.compile(r"<[ \t]*/?[A-Za-z_]")


def _values(template: str, filled: str) -> dict[str, set[str]]:
    """The values each placeholder of ``template`` got in ``filled`` (the template's
    other text separates them)."""
    parts = PLACEHOLDER_PATTERN.split(template)
    pattern = "".join(
        re.escape(part) if i % 3 == 0 else "(.+?)" if i % 3 == 1 else ""
        for i, part in enumerate(parts)
    )
    match = re.fullmatch(pattern, filled, re.DOTALL)
    assert match is not None, (template, filled)
    names = [f"<{kind}_{k}>" for kind, k in PLACEHOLDER_PATTERN.findall(template)]
    found: dict[str, set[str]] = {}
    for name, value in zip(names, match.groups(), strict=True):
        found.setdefault(name, set()).add(value)
    return found


TEMPLATE = (
    "Seen by Dr. <PERSON_1> on <DATE_1>; <PERSON_2> (wife) aware. <PERSON_1> to call "
    "<PHONE_1> | MRN <ID_1> | age <AGE_1> | <LOCATION_1> | <ORGANIZATION_1> | <EMAIL_1> | "
    "<URL_1> | <OTHER_1> | f/u <DATE_2> and again <DATE_1> with <PERSON_2> at <PHONE_1> ."
)


def test_every_placeholder_is_filled_consistently_within_a_document() -> None:
    [filled] = refill([TEMPLATE], np.random.default_rng(1))
    assert not _TAG.search(filled)
    values = _values(TEMPLATE, filled)
    assert all(len(v) == 1 for v in values.values()), values  # one value per placeholder
    one = {name: next(iter(v)) for name, v in values.items()}
    assert one["<PERSON_1>"] != one["<PERSON_2>"]
    assert one["<DATE_1>"] != one["<DATE_2>"]


def test_formats_are_realistic() -> None:
    templates = [TEMPLATE] * 200
    filled = refill(templates, np.random.default_rng(2))
    for text in filled:
        one = {name: next(iter(v)) for name, v in _values(TEMPLATE, text).items()}
        for date in (one["<DATE_1>"], one["<DATE_2>"]):
            assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", date)
            datetime.datetime.strptime(date, "%m/%d/%Y")  # a real calendar date
        assert re.fullmatch(r"\([2-9]\d{2}\) [2-9]\d{2}-\d{4}", one["<PHONE_1>"])
        assert re.fullmatch(r"\d{8}", one["<ID_1>"])
        assert re.fullmatch(r"\d+", one["<AGE_1>"])
        assert MIN_AGE <= int(one["<AGE_1>"]) <= MAX_AGE
        assert "@" in one["<EMAIL_1>"] and "." in one["<URL_1>"]
        assert re.fullmatch(r"[A-Z][\w'.-]* [A-Z][\w'.-]*", one["<PERSON_1>"])


def test_ages_are_never_over_89() -> None:
    texts = [" ".join(f"<AGE_{k}>" for k in range(1, 10))] * 600
    ages = [int(a) for text in refill(texts, np.random.default_rng(3)) for a in text.split()]
    assert len(ages) == 5400
    assert max(ages) <= 89 and min(ages) >= 18
    assert max(ages) == 89 and min(ages) == 18  # the whole range is used


def test_documents_are_independent_and_runs_reproducible() -> None:
    texts = ["Patient <PERSON_1> seen <DATE_1>, phone <PHONE_1>."] * 50
    first = refill(texts, np.random.default_rng(4))
    assert len(set(first)) == 50  # same placeholders, different values per document
    assert refill(texts, np.random.default_rng(4)) == first
    assert refill(texts, np.random.default_rng(5)) != first


def test_malformed_placeholders_are_repaired_or_removed() -> None:
    texts = [
        "Dr. <PERSON_1> saw <PERSON_",  # cut off after the type
        "Call <PHONE_1> or <PHONE_NUMBER> then <PERS",  # detector tag; cut off in the type
        "Unknown <FOO_3> and <b>bold</b> and <person_1>, <PERSON_12> <PERSON_0> <",
        "Open <DATE_2 later and <DATE_> and <POSSIBLE_PHI> done.",
    ]
    result = refill_with_counts(texts, np.random.default_rng(6))
    for text in result.texts:
        assert not _TAG.search(text), text
        assert not text.rstrip().endswith("<")
    assert result.texts[2].startswith("Unknown and bold and ")
    assert result.texts[3].endswith(" done.")
    assert result.removed == 5  # <PERS, <FOO_3>, <b>, </b> and a final <: no known type
    assert result.repaired == 8
    assert result.counts["PERSON"] == 5 and result.counts["PHONE"] == 2
    assert result.counts["DATE"] == 2 and result.counts["OTHER"] == 1


def test_a_lower_case_placeholder_is_the_same_value() -> None:
    [text] = refill(["<PERSON_1> | <person_1>"], np.random.default_rng(8))
    left, right = text.split(" | ")
    assert left == right


def test_prose_comparisons_are_no_tags() -> None:
    text = "SBP <90 and HR < 60; goal <5 mg. Nothing to fill."
    assert refill([text], np.random.default_rng(9)) == [text]
    assert refill([""], np.random.default_rng(9)) == [""]


def test_names_follow_the_case_of_the_document() -> None:
    upper = "PT SEEN BY DR <PERSON_1> AT <ORGANIZATION_1> IN <LOCATION_1>, WIFE AWARE OF PLAN."
    lower = "pt seen by dr <PERSON_1> at <ORGANIZATION_1> in <LOCATION_1>, wife aware of plan."
    out_upper, out_lower = refill([upper, lower], np.random.default_rng(10))
    assert out_upper == out_upper.upper() and out_lower == out_lower.lower()


def test_counts_cover_every_type() -> None:
    from privsynth.text.refill import _DRAWS

    assert set(_DRAWS) == set(PLACEHOLDER_TYPES)
    texts = [" ".join(all_placeholders())]
    result = refill_with_counts(texts, np.random.default_rng(11))
    assert dict(result.counts) == dict.fromkeys(PLACEHOLDER_TYPES, 9)
    assert result.repaired == result.removed == 0
    values = result.texts[0]
    assert not _TAG.search(values)


def test_bad_arguments_are_refused_with_a_hint() -> None:
    with pytest.raises(ConfigurationError) as error:
        refill(["x"], 42)  # type: ignore[arg-type]
    assert error.value.hint
    with pytest.raises(ConfigurationError):
        refill(["x"], np.random.default_rng(0), locale="xx_YY")
    with pytest.raises(InputDataError):
        refill("one text", np.random.default_rng(0))
    with pytest.raises(InputDataError):
        refill([None], np.random.default_rng(0))  # type: ignore[list-item]


def test_other_locales_work() -> None:
    [text] = refill(["<PERSON_1> in <LOCATION_1>"], np.random.default_rng(12), locale="de_DE")
    assert not _TAG.search(text) and " in " in text
