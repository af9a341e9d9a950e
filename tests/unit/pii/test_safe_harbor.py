"""HIPAA Safe Harbor (45 CFR 164.514(b)(2)) generalisation of ZIPs, ages, dates, free
text and tabular columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privsynth.errors import ConfigurationError
from privsynth.pii.safe_harbor import (
    NOTE_DATES_SHIFTED,
    RESTRICTED_ZIP3,
    generalize_age,
    generalize_date,
    generalize_zip,
    is_allowed_location,
    safe_harbor_column,
    safe_harbor_text,
)
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import SurrogateGenerator

HHS_RESTRICTED = "036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893"


def test_restricted_list_is_exactly_the_hhs_17() -> None:
    assert frozenset(HHS_RESTRICTED.split()) == RESTRICTED_ZIP3
    assert len(RESTRICTED_ZIP3) == 17


@pytest.mark.parametrize("zip3", HHS_RESTRICTED.split())
def test_each_restricted_zip3_becomes_000(zip3: str) -> None:
    assert generalize_zip(f"{zip3}01") == "000"
    assert generalize_zip(f"{zip3}99-1234") == "000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("02114", "021"),
        ("02114-1234", "021"),
        ("021141234", "021"),
        (" 90210 ", "902"),
        ("021", "021"),
        ("2114", "000"),
        ("Boston", "000"),
        ("", "000"),
    ],
)
def test_zip_generalisation(value: str, expected: str) -> None:
    assert generalize_zip(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_zip_output_is_always_a_safe_zip3(value: str) -> None:
    out = generalize_zip(value)
    assert len(out) == 3 and out.isdigit() and out not in RESTRICTED_ZIP3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (89, 89),
        (90, "90+"),
        (104, "90+"),
        (0, 0),
        (89.5, "90+"),
        ("89", "89"),
        ("90", "90+"),
        ("92-year-old", "90+ year-old"),
        ("age 92", "age 90+"),
        ("92 y/o", "90+ y/o"),
        ("45-year-old", "45-year-old"),
        ("a ninety-two-year-old", "a 90+ year-old"),
        ("one hundred and one years", "90+ years"),
        ("eighty-nine", "eighty-nine"),
    ],
)
def test_age_generalisation(value: int | float | str, expected: int | str) -> None:
    assert generalize_age(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=150))
def test_ages_over_89_never_survive(age: int) -> None:
    out = generalize_age(age)
    assert out == ("90+" if age > 89 else age)
    assert generalize_age(f"{age} years") == f"{out} years"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("07/22/2019", "2019"),
        ("7/22/19", "2019"),
        ("2019-07-22", "2019"),
        ("July 22, 2019", "2019"),
        ("Tuesday, July 22nd, 2019 at 10:30 pm", "2019"),
        ("22 Jul 2019", "2019"),
        ("Jul 2019", "2019"),
        ("2019", "2019"),
        ("7/22", "[DATE]"),
        ("July 22", "[DATE]"),
        ("2/30/2019", "[DATE]"),
        ("last Tuesday", "[DATE]"),
        ("from 3/4/2020 to 3/9/2021", "from 2020 to 2021"),
        ("march of 2022", "2022"),  # the month did not parse: it must not survive
        ("in may of '19", "[DATE]"),
    ],
)
def test_dates_reduce_to_the_year(value: str, expected: str) -> None:
    assert generalize_date(value) == expected


def test_years_that_may_reveal_an_age_over_89_are_removed() -> None:
    import datetime

    this_year = datetime.date.today().year
    assert generalize_date(f"born {this_year - 95}") == "born [DATE]"
    assert generalize_date(f"3/4/{this_year - 89}") == str(this_year - 89)


@pytest.mark.parametrize(
    ("place", "allowed"),
    [
        ("Massachusetts", True),
        ("MA", True),
        ("New York State", True),
        ("the State of Texas", True),
        ("Puerto Rico", True),
        ("France", True),
        ("the United States", True),
        ("United-States", True),  # coded as in census tables (Adult's native-country)
        ("Dominican_Republic", True),
        ("Boston", False),
        ("Suffolk County", False),
        ("Saint-Denis", False),
        ("ma", False),
    ],
)
def test_states_and_countries_are_allowed(place: str, allowed: bool) -> None:
    assert is_allowed_location(place) is allowed


NOTE = (
    "John Smith, 92-year-old from Boston, MA 02114, seen 07/22/2019 at Mayo Clinic."
    " Tel 617-555-0199."
)


def _detections() -> list[Detection]:
    spans = [
        ("John Smith", "PERSON"),
        ("92-year-old", "AGE"),
        ("Boston", "LOCATION"),
        ("MA", "LOCATION"),
        ("02114", "US_ZIP_CODE"),
        ("07/22/2019", "DATE_TIME"),
        ("Mayo Clinic", "FACILITY"),
        ("617-555-0199", "PHONE_NUMBER"),
    ]
    return [Detection(NOTE.index(s), NOTE.index(s) + len(s), t, 0.9) for s, t in spans]


def test_safe_harbor_text_with_tags() -> None:
    out, notes = safe_harbor_text(NOTE, _detections(), None)
    assert out == (
        "<PERSON>, 90+ year-old from <LOCATION>, MA 021, seen 2019 at <FACILITY>."
        " Tel <PHONE_NUMBER>."
    )
    assert notes == []


def test_safe_harbor_text_with_surrogates() -> None:
    gen = SurrogateGenerator(bytes(range(32)))
    out, notes = safe_harbor_text(NOTE, _detections(), gen)
    for leaked in ("John", "Smith", "Boston", "02114", "07/22", "Mayo", "617-555-0199", "92"):
        assert leaked not in out
    assert gen.surrogate("PERSON", "John Smith") in out and ", MA 021," in out
    assert " seen 2019 " in out and out.endswith(
        " Clinic. Tel " + gen.surrogate("PHONE_NUMBER", "617-555-0199") + "."
    )
    assert notes == []


def test_date_shift_mode_is_flagged_as_not_safe_harbor() -> None:
    gen = SurrogateGenerator(bytes(range(32)))
    out, notes = safe_harbor_text(NOTE, _detections(), gen, date_mode="shift", person_key="p1")
    assert notes == [NOTE_DATES_SHIFTED]
    assert gen.shift_date("07/22/2019", "p1") in out
    _, no_dates = safe_harbor_text(
        "Call 555-1234", [Detection(5, 13, "PHONE_NUMBER", 0.9)], gen, "shift"
    )
    assert no_dates == []
    with pytest.raises(ConfigurationError, match="surrogate key"):
        safe_harbor_text(NOTE, _detections(), None, date_mode="shift")


def test_organizations_go_and_nrp_stays() -> None:
    text = "Works at Acme Corp, Catholic."
    found = [Detection(9, 18, "ORGANIZATION", 0.8), Detection(20, 28, "NRP", 0.8)]
    assert safe_harbor_text(text, found, None) == ("Works at <ORGANIZATION>, Catholic.", [])


def test_zip_column_including_numbers_and_missing() -> None:
    out = safe_harbor_column(
        pd.Series(["02114", "03601", None, "", "n/a", "02114-1234"], name="zip"), "zip"
    )
    assert out.tolist() == ["021", "000", None, "", "000", "021"] and out.name == "zip"
    numeric = safe_harbor_column(pd.Series([2114.0, np.nan, 90210.0, 1.5]), "zip")
    assert numeric.tolist()[0] == "021" and pd.isna(numeric.iloc[1])
    assert numeric.tolist()[2:] == ["902", "000"]


def test_age_column() -> None:
    assert safe_harbor_column(pd.Series([45, 89, 90, 104]), "age").tolist() == [
        "45",
        "89",
        "90+",
        "90+",
    ]
    mixed = safe_harbor_column(pd.Series(["45", "92 years", "", None]), "age")
    assert mixed.tolist() == ["45", "90+ years", "", None]


def test_date_column() -> None:
    text = safe_harbor_column(pd.Series(["07/22/2019", "July 1, 2020", "", "7/22"]), "date")
    assert text.tolist() == ["2019", "2020", "", "[DATE]"]
    stamps = safe_harbor_column(pd.to_datetime(pd.Series(["2019-07-22", None])), "date")
    assert stamps.iloc[0] == "2019" and pd.isna(stamps.iloc[1])
    with pytest.raises(ConfigurationError) as caught:
        safe_harbor_column(pd.Series(["x"]), "city")
    assert "age, date, zip" in caught.value.one_line()
