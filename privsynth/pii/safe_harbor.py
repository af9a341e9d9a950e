"""HIPAA Safe Harbor de-identification (45 CFR 164.514(b)(2)) of text and columns.

Safe Harbor removes 18 kinds of identifiers of the individual *and of relatives,
employers and household members*; what it lets through is what this module keeps:
the first three ZIP digits of populous areas, years, ages up to 89, and geography at
state level or above (US states and state-equivalents, countries).

Textual rules chosen here:

* ZIP codes -> their first three digits ("02114-1234" -> "021"); "000" for the 17
  sparsely populated ZIP3 areas and for anything that is not a ZIP (fail closed).
* Ages -> every number above 89 becomes "90+", other numbers stay: "92" -> "90+",
  "age 92" -> "age 90+", "92 y/o" -> "90+ y/o". A hyphen joining the number to the
  next word becomes a space so the result reads cleanly: "92-year-old" ->
  "90+ year-old". Spelled-out ages of ninety and above ("ninety-two") -> "90+".
* Dates -> the year alone ("07/22/2019", "July 22, 2019", "Tue 2019-07-22 10:30"
  -> "2019"; two-digit years pivot like strptime: 69-99 -> 19xx). A date without a
  year ("7/22"), an impossible date ("2/30/2019") or text with no parseable date
  ("last Tuesday", "10:30") -> "[DATE]". Words around a date in the span stay.
* ORGANIZATION is replaced too: an organisation in a note may be the patient's
  employer, whose name Safe Harbor also removes. NRP (nationality, religion,
  politics) is no Safe Harbor identifier and stays.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from privsynth.errors import ConfigurationError
from privsynth.pii import entities as E
from privsynth.pii.operators import replace_spans, resolve_overlaps
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import DATE_TAG, DateMatch, SurrogateGenerator, find_dates

if TYPE_CHECKING:
    import pandas as pd

#: ZIP3 prefixes whose areas had 20,000 or fewer people, which Safe Harbor requires to
#: be reported as "000". Source: HHS, "Guidance Regarding Methods for De-identification
#: of Protected Health Information in Accordance with the HIPAA Privacy Rule" (2012),
#: section 3.4 / Q&A on ZIP codes, computed from 2000 Census data.
RESTRICTED_ZIP3: Final = frozenset(
    {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831"}
    | {"878", "879", "884", "890", "893"}
)

AGE_CAP: Final = "90+"
NOTE_DATES_SHIFTED: Final = "dates shifted, not Safe Harbor"
COLUMN_KINDS: Final = ("age", "date", "zip")


def _names(text: str) -> frozenset[str]:
    """Comma-separated names -> a set, whitespace normalised."""
    return frozenset(" ".join(n.split()) for n in text.split(",") if n.strip())


#: states and, per 45 CFR 160.103, the state-equivalents DC, PR, VI, GU, AS, MP
US_STATES: Final = _names(
    """alabama, alaska, arizona, arkansas, california, colorado, connecticut, delaware,
    florida, georgia, hawaii, idaho, illinois, indiana, iowa, kansas, kentucky, louisiana,
    maine, maryland, massachusetts, michigan, minnesota, mississippi, missouri, montana,
    nebraska, nevada, new hampshire, new jersey, new mexico, new york, north carolina,
    north dakota, ohio, oklahoma, oregon, pennsylvania, rhode island, south carolina,
    south dakota, tennessee, texas, utah, vermont, virginia, washington, west virginia,
    wisconsin, wyoming, district of columbia, washington dc, washington d.c., d.c., dc,
    puerto rico, guam, american samoa, northern mariana islands, virgin islands,
    u.s. virgin islands, us virgin islands"""
)
#: USPS codes, matched case-sensitively ("MA", not "ma")
US_STATE_CODES: Final = _names(
    """AL, AK, AZ, AR, CA, CO, CT, DE, FL, GA, HI, ID, IL, IN, IA, KS, KY, LA, ME, MD,
    MA, MI, MN, MS, MO, MT, NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI, SC,
    SD, TN, TX, UT, VT, VA, WA, WV, WI, WY, DC, PR, VI, GU, AS, MP"""
)
#: sovereign states (UN members and observers, Taiwan, Kosovo) and common aliases
COUNTRIES: Final = _names(
    """afghanistan, albania, algeria, andorra, angola, antigua and barbuda, argentina,
    armenia, australia, austria, azerbaijan, bahamas, bahrain, bangladesh, barbados,
    belarus, belgium, belize, benin, bhutan, bolivia, bosnia and herzegovina, botswana,
    brazil, brunei, bulgaria, burkina faso, burundi, cabo verde, cape verde, cambodia,
    cameroon, canada, central african republic, chad, chile, china, colombia, comoros,
    congo, democratic republic of the congo, costa rica, cote d'ivoire, ivory coast,
    croatia, cuba, cyprus, czech republic, czechia, denmark, djibouti, dominica,
    dominican republic, ecuador, egypt, el salvador, equatorial guinea, eritrea, estonia,
    eswatini, swaziland, ethiopia, fiji, finland, france, gabon, gambia, georgia, germany,
    ghana, greece, grenada, guatemala, guinea, guinea-bissau, guyana, haiti, honduras,
    hungary, iceland, india, indonesia, iran, iraq, ireland, israel, italy, jamaica, japan,
    jordan, kazakhstan, kenya, kiribati, north korea, south korea, korea, kosovo, kuwait,
    kyrgyzstan, laos, latvia, lebanon, lesotho, liberia, libya, liechtenstein, lithuania,
    luxembourg, madagascar, malawi, malaysia, maldives, mali, malta, marshall islands,
    mauritania, mauritius, mexico, micronesia, moldova, monaco, mongolia, montenegro,
    morocco, mozambique, myanmar, burma, namibia, nauru, nepal, netherlands, holland,
    new zealand, nicaragua, niger, nigeria, north macedonia, macedonia, norway, oman,
    pakistan, palau, palestine, panama, papua new guinea, paraguay, peru, philippines,
    poland, portugal, qatar, romania, russia, russian federation, rwanda,
    saint kitts and nevis, saint lucia, saint vincent and the grenadines, samoa,
    san marino, sao tome and principe, saudi arabia, senegal, serbia, seychelles,
    sierra leone, singapore, slovakia, slovenia, solomon islands, somalia, south africa,
    south sudan, spain, sri lanka, sudan, suriname, sweden, switzerland, syria, taiwan,
    tajikistan, tanzania, thailand, timor-leste, east timor, togo, tonga,
    trinidad and tobago, tunisia, turkey, turkiye, turkmenistan, tuvalu, uganda, ukraine,
    united arab emirates, uae, united kingdom, uk, u.k., great britain, britain, england,
    scotland, wales, northern ireland, united states, united states of america, usa,
    u.s.a., u.s., us, america, uruguay, uzbekistan, vanuatu, vatican city, holy see,
    venezuela, vietnam, viet nam, yemen, zambia, zimbabwe"""
)
_LOCATION_PREFIX: Final = re.compile(r"^(?:the\s+)?(?:(?:state|commonwealth)\s+of\s+)?")
_ZIP: Final = re.compile(r"^\s*(\d{3})(?:\d{2}(?:[-\s]?\d{4})?)?\s*$")
_AGE_NUMBER: Final = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d])(-(?=[^\W\d_]))?")
_UNITS: Final = "one|two|three|four|five|six|seven|eight|nine"
_TEENS: Final = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS: Final = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_SPELLED_OLD_AGE: Final = re.compile(
    rf"\b(?:(?:(?:a|one)[\s-]+)?hundred(?:[\s-]+(?:and[\s-]+)?"
    rf"(?:{_TEENS}|(?:{_TENS})(?:[\s-]*(?:{_UNITS}))?|{_UNITS}))?"
    rf"|ninety(?:[\s-]*(?:{_UNITS}))?)\b(-(?=[^\W\d_]))?",
    re.IGNORECASE,
)


_JOINERS = re.compile(r"[-_]")


def is_allowed_location(text: str) -> bool:
    """Whether a LOCATION is a US state (or state-equivalent) or a country, which Safe
    Harbor lets through; anything else (city, county, street) must go."""
    stripped = text.strip().rstrip(",;")
    if stripped in US_STATE_CODES:
        return True
    spaced = _JOINERS.sub(" ", stripped.casefold().replace("\u2019", "'"))
    folded = " ".join(spaced.split())  # "United-States", "Puerto_Rico" as coded in tables
    folded = _LOCATION_PREFIX.sub("", folded)
    folded = folded.removesuffix(" state")
    return folded in US_STATES or folded in COUNTRIES


def generalize_zip(value: str) -> str:
    """First three digits of a ZIP or ZIP+4; "000" for restricted areas and non-ZIPs."""
    match = _ZIP.match(value)
    if match is None or match.group(1) in RESTRICTED_ZIP3:
        return "000"
    return match.group(1)


def _age_text(text: str) -> str:
    """Numbers above 89 in an age phrase -> "90+", a trailing joining hyphen -> space."""

    def number(match: re.Match[str]) -> str:
        if float(match.group(1)) <= 89:
            return match.group(0)
        return AGE_CAP + (" " if match.group(2) else "")

    def spelled(match: re.Match[str]) -> str:
        return AGE_CAP + (" " if match.group(1) else "")

    return _SPELLED_OLD_AGE.sub(spelled, _AGE_NUMBER.sub(number, text))


def generalize_age(value: int | float | str) -> int | float | str:
    """ "90+" for ages over 89 (Safe Harbor's single top category), others unchanged;
    text is rewritten number by number (see the module docstring)."""
    if isinstance(value, str):
        return _age_text(value)
    return AGE_CAP if value > 89 else value


def _year_of(found: DateMatch) -> str:
    """The year of one found date; ``[DATE]`` without a year, for impossible dates, and
    for years more than 89 years ago, which may reveal an age over 89 (a birth year)."""
    if found.year is None or (found.month is not None and found.anchor() is None):
        return DATE_TAG
    if found.year < datetime.date.today().year - 89:
        return DATE_TAG
    return str(found.year)


#: what is left of a date once its parsed parts are replaced: a digit or a month name
#: ("march of" in "march of 2022", where only the year parsed)
_DATE_REMNANT: Final = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)


def generalize_date(text: str) -> str:
    """Each date in ``text`` -> its year (Safe Harbor keeps years only); "[DATE]" for
    dates without a year and for text in which no date parses. When a part of a date
    did not parse (a month name beside a parsed year), only the years are kept."""
    dates = find_dates(text)
    if not dates:
        return DATE_TAG
    years = [_year_of(found) for found in dates]
    rest = text
    for found, year in zip(reversed(dates), reversed(years), strict=True):
        text = text[: found.start] + year + text[found.end :]
        rest = rest[: found.start] + rest[found.end :]
    return " ".join(years) if _DATE_REMNANT.search(rest) else text


def _replace_identifier(
    entity_type: str, original: str, surrogates: SurrogateGenerator | None
) -> str:
    """A removed identifier: a consistent surrogate with a key, else a type tag."""
    if surrogates is None:
        return f"<{entity_type}>"
    return surrogates.surrogate(entity_type, original)


def _safe_harbor_span(
    entity_type: str,
    original: str,
    surrogates: SurrogateGenerator | None,
    date_mode: str,
    person_key: str | None,
) -> str:
    """What Safe Harbor puts in place of one detected span."""
    if entity_type == E.US_ZIP_CODE:
        return generalize_zip(original)
    if entity_type == E.AGE:
        return str(generalize_age(original))
    if entity_type == E.DATE_TIME:
        if date_mode == "year" or surrogates is None:
            return generalize_date(original)
        if person_key is not None:
            return surrogates.shift_date(original, person_key)
        return surrogates.surrogate(E.DATE_TIME, original)
    if entity_type == E.NRP or (entity_type == E.LOCATION and is_allowed_location(original)):
        return original
    return _replace_identifier(entity_type, original, surrogates)


def safe_harbor_text(
    text: str,
    detections: Sequence[Detection],
    surrogates: SurrogateGenerator | None,
    date_mode: Literal["year", "shift"] = "year",
    person_key: str | None = None,
) -> tuple[str, list[str]]:
    """Safe Harbor applied to free text: ``(new text, notes)``.

    ``notes`` lists deviations from Safe Harbor; it holds ``NOTE_DATES_SHIFTED`` when
    ``date_mode="shift"`` moved a date (intervals kept, but full dates remain, so the
    output is NOT Safe Harbor de-identified) and is empty otherwise.
    """
    if date_mode not in ("year", "shift"):
        raise ConfigurationError(f"unknown date_mode {date_mode!r}", hint="use 'year' or 'shift'")
    if date_mode == "shift" and surrogates is None:
        raise ConfigurationError(
            "date_mode='shift' needs a surrogate key",
            hint="pass surrogates=SurrogateGenerator.from_env(), or use date_mode='year'",
        )
    resolved = resolve_overlaps(detections)
    if any(d.end > len(text) for d in resolved):
        raise ValueError(f"a detection lies outside a text of {len(text)} characters")
    replacements = [
        (
            d.start,
            d.end,
            _safe_harbor_span(
                d.entity_type, text[d.start : d.end], surrogates, date_mode, person_key
            ),
        )
        for d in resolved
    ]
    shifted = date_mode == "shift" and any(d.entity_type == E.DATE_TIME for d in resolved)
    return replace_spans(text, replacements), [NOTE_DATES_SHIFTED] if shifted else []


# ------------------------------------------------------------------ tabular columns


def _is_blank(values: pd.Series[Any]) -> pd.Series[bool]:
    """Missing cells (NA, or empty text as read with keep_default_na=False) stay."""
    text = values.astype("string").str.strip()
    return values.isna() | text.eq("").fillna(False).astype(bool)


def _zip_text(values: pd.Series[Any]) -> pd.Series[Any]:
    """ZIPs as text; whole non-negative numbers are zero-padded (02114 read as 2114)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        from privsynth.cells import to_numbers

        numbers = to_numbers(values)
        whole = numbers.where((numbers % 1 == 0) & (numbers >= 0))
        return whole.astype("Int64").astype("string").str.zfill(5)
    return values.astype("string")


def _zip_column(values: pd.Series[Any]) -> pd.Series[Any]:
    """Vectorised :func:`generalize_zip` (one regex over the whole column)."""
    zip3 = _zip_text(values).str.extract(_ZIP.pattern, expand=False)
    zip3 = zip3.where(~zip3.isin(RESTRICTED_ZIP3), "000").fillna("000")
    return zip3.astype(object)


def _age_column(values: pd.Series[Any]) -> pd.Series[Any]:
    """Ages as text: "90+" is a category, not a number, so the column becomes text."""

    from privsynth.cells import to_numbers

    numbers = to_numbers(values)
    out = values.astype(object).copy()
    whole = numbers.notna() & (numbers % 1 == 0)
    out[whole] = numbers[whole].astype("int64").astype(str)
    fractional = numbers.notna() & ~whole
    out[fractional] = numbers[fractional].astype(str)
    out[numbers > 89] = AGE_CAP
    words = numbers.isna() & values.notna()
    out[words] = values[words].astype(str).map(_age_text)
    return out


def _date_column(values: pd.Series[Any]) -> pd.Series[Any]:
    """Years as text; text cells are parsed once per distinct value."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        years = values.dt.year
        out = values.astype(object).copy()
        out[years.notna()] = years[years.notna()].astype("int64").astype(str)
        return out
    text = values.astype(str)
    mapping = {v: generalize_date(v) for v in text.unique()}
    return text.map(mapping).astype(object)


def safe_harbor_column(values: pd.Series[Any], kind: str) -> pd.Series[Any]:
    """A ``"zip"``, ``"age"`` or ``"date"`` column generalised like the text rules;
    missing cells stay missing, the result holds text (object dtype)."""
    builders = {"zip": _zip_column, "age": _age_column, "date": _date_column}
    if kind not in builders:
        raise ConfigurationError(
            f"unknown Safe Harbor column kind {kind!r}",
            hint=f"choose one of: {', '.join(COLUMN_KINDS)}",
        )
    out = builders[kind](values)
    blank = _is_blank(values)
    out[blank] = values[blank]
    out.name = values.name
    return out
