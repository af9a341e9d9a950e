"""Recognizers for the quasi-identifiers of clinical notes: ages, dates, facilities.

HIPAA Safe Harbor (C) removes every element of a date except the year, and ages
over 89; (B) removes facility names with the other sub-state locations. Notes
write all three in many styles ("92 yo F", "DOB: 07/22/1931", "ST. MARY'S
HOSPITAL"), and the numbers they use collide with doses, scores and ratios
("5/10 pain", "BP 120/80"), so these patterns trade recall for precision where
the two conflict, and say so in their docstrings.

The person-name recognizers live in :mod:`privsynth.pii.recognizers.names` and
are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    GAP,
    OPT_GAP,
    ContextRecognizer,
    RegexRecognizer,
    alternation,
    case_sensitive,
    compile_pattern,
    make_result,
    title_and_upper,
    window_before,
    words,
)
from privsynth.pii.recognizers.gazetteer import DOSE_UNITS
from privsynth.pii.recognizers.names import NameLexiconRecognizer, TitledPersonRecognizer

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = [
    "AGE_LOWER_BOUND_KEY",
    "AGE_METADATA_KEY",
    "AgeRecognizer",
    "ClinicalDateRecognizer",
    "FacilityRecognizer",
    "NameLexiconRecognizer",
    "TitledPersonRecognizer",
    "parse_age",
]

# --------------------------------------------------------------------------- ages

#: recognition_metadata key holding the age in whole years (an int)
AGE_METADATA_KEY: Final = "age"
#: recognition_metadata key, True when the age is a lower bound ("in her 90s")
AGE_LOWER_BOUND_KEY: Final = "age_is_lower_bound"

#: oldest plausible human age; larger "ages" are of buildings, devices, trees
MAX_HUMAN_AGE = 125

_UNITS = words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = words("twenty thirty forty fifty sixty seventy eighty ninety")
_WORD_VALUES: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
_WORD_VALUES.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
_WORD_VALUES["hundred"] = 100
_DECADE_WORDS = {w[:-1] + "ies": 20 + 10 * i for i, w in enumerate(_TENS)}
_GENARIANS = {
    "quinquagenarian": 50,
    "sexagenarian": 60,
    "septuagenarian": 70,
    "octogenarian": 80,
    "nonagenarian": 90,
    "centenarian": 100,
    "supercentenarian": 110,
}

_AGE_DIGITS = r"(?<![\w.,/:-])\d{1,3}(?!\d|[.,]\d)"
_AGE_WORDS = (
    rf"(?<![\p{{L}}-])(?i:(?:{'|'.join(_TENS)})(?:[ -](?:{'|'.join(_UNITS[1:10])}))?"
    rf"|one[ -]hundred(?:[ -](?:and[ -])?(?:{'|'.join(_TENS + _UNITS[1:])}))?"
    rf"|{'|'.join(reversed(_UNITS[1:]))})(?![\p{{L}}])"
)
_YEAR_UNIT = r"(?:years?|yrs?\.?|yr\.?)"
# The span is the word that holds the age: the whole compound when the number is
# hyphenated into one ("92-year-old", "18-month-old") or carries an abbreviation
# ("91 yo", "92yo", "67 y.o."), the number alone before separate words ("92 years
# old"). Safe Harbor's generalize_age rewrites the number inside ("90+-year-old").
_YEARS_OLD = (
    rf"(?:-{OPT_GAP}(?i:{_YEAR_UNIT}{OPT_GAP}-{OPT_GAP}old)(?![\p{{L}}])"
    rf"|(?={OPT_GAP}-?{OPT_GAP}(?i:{_YEAR_UNIT}{OPT_GAP}-?{OPT_GAP}old)(?![\p{{L}}])))"
)
_YO = r"[ \t-]?(?i:y/o|y\.o\.|y\.o|yo[mf]?)(?![\p{L}])"
_YEARS_OF_AGE = rf"(?={OPT_GAP}(?i:{_YEAR_UNIT}{GAP}of{GAP}age)(?![\p{{L}}]))"
_YOUNGER_UNIT = r"(?:months?|mos?\.?|weeks?|wks?\.?|days?)"
_YOUNGER_OLD = (
    rf"(?:-{OPT_GAP}(?i:{_YOUNGER_UNIT}{OPT_GAP}-{OPT_GAP}old)(?![\p{{L}}])"
    rf"|(?={OPT_GAP}-?{OPT_GAP}(?i:{_YOUNGER_UNIT}{OPT_GAP}-?{OPT_GAP}old)(?![\p{{L}}])))"
)
# "aged 92", "age: 92", "Age 92" -- but not a statistic or a gestational age
_AGE_LABEL = (
    r"\b(?i:aged?)(?<!(?i:gestational|bone|mean|median|average|corrected|menarche|skeletal)"
    rf"[ \t]+(?i:aged?)){OPT_GAP}[:=]?{OPT_GAP}\K"
)
# "just turned 47", "I'll turn 81", "when she was 78." -- a birthday or a life event;
# the number must end the clause, so "turned 2 times" and "was 78 mg" stay out
_CLAUSE_END = (
    r"(?=[ \t]*(?:[.,;:!?)]|$"
    r"|(?i:years?|yrs?|today|tomorrow|yesterday|this|last|next|on|in|and|but)\b))"
)
_TURNED = (
    r"\b(?i:turned|turns|turning|turn|will[ \t]+be|when[ \t]+(?:he|she|i|they|you|we)[ \t]+"
    r"(?:was|were|turned))[ \t]+\K"
)
_NOT_YEARS = rf"(?!{OPT_GAP}(?i:weeks?|wks?|days?|months?|mos?)\b)"
# "I am 47.", "she's 47 years", "Pt is 91.", "at the age of 47" -- an age stated outright;
# the number must end the clause, so "he is 5 feet" and "I am 2 weeks out" stay out
_STATED = (
    r"\b(?:(?i:i[ \t]+am|i'm|i’m|he[ \t]+is|she[ \t]+is|he's|she's|he’s|she’s|they[ \t]+are"
    r"|you[ \t]+are|you're|you’re|pt\.?[ \t]+is|patient[ \t]+is|who[ \t]+is)"
    r"(?:[ \t]+(?i:now|only|almost|nearly|just))?"
    r"|(?i:age|ages)[ \t]+of)[ \t]+\K"
)
_DECADE = (
    rf"\b(?i:in{GAP}(?:his|her|their|the){GAP}(?:(?:early|mid|late)[ -]?{OPT_GAP})?)\K"
    rf"(?:[1-9]0['’]?s|(?i:{'|'.join(_DECADE_WORDS)}))(?![\p{{L}}])"
)


def _words_to_int(text: str) -> int | None:
    """Parse "ninety-two", "one hundred and one" (the forms _AGE_WORDS matches)."""
    total = 0
    for word in text.lower().replace("-", " ").split():
        if word == "and":
            continue
        value = _WORD_VALUES.get(word)
        if value is None:
            return None
        total = total * 100 if value == 100 else total + value
    return total


_AGE_UNIT_SUFFIX = compile_pattern(
    r"[ \t-]*(?i:(?:years?|yrs?\.?|yr\.?|months?|mos?\.?|weeks?|wks?\.?|days?)[ \t-]*"
    r"(?:old|of[ \t]+age)|y/o|y\.o\.?|yo[mf]?)\Z"
)


def _age_unit(span: str) -> str:
    """The unit words of an age span ("-month-old" of "18-month-old"), else ""."""
    match = _AGE_UNIT_SUFFIX.search(span)
    return "" if match is None else match.group()


def parse_age(span: str) -> tuple[int, bool] | None:
    """Age in years of a matched span, and whether it is only a lower bound.

    "92" -> (92, False); "92-year-old" -> (92, False); "ninety-two" -> (92, False);
    "90s" -> (90, True); "nonagenarian" -> (90, True). None for text that is not an
    age. Months, weeks and days ("18-month-old") give the count, not years.
    """
    unit = _age_unit(span)
    text = span[: len(span) - len(unit)].strip().lower().replace("’", "'")
    if text.isdigit():
        return int(text), False
    if text.endswith("s") and text[:-1].rstrip("'").isdigit():
        return int(text[:-1].rstrip("'")), True
    if text in _DECADE_WORDS:
        return _DECADE_WORDS[text], True
    if text.rstrip("s") in _GENARIANS:
        return _GENARIANS[text.rstrip("s")], True
    value = _words_to_int(text)
    return None if value is None else (value, False)


def _is_months_old(result: RecognizerResult) -> bool:
    """Whether ``result`` came from the "N months/weeks/days old" pattern."""
    explanation = result.analysis_explanation
    return explanation is not None and explanation.pattern_name == "months_old"


def _infant_age_in_years(count: int, unit_text: str) -> int:
    """Whole years of "18 months old" (1) or "3 weeks old" (0)."""
    return count // 12 if unit_text.lstrip(" \t-").lower().startswith("mo") else 0


class AgeRecognizer(RegexRecognizer):
    """Ages of people, with the value in ``recognition_metadata["age"]``.

    The span is the whole age expression, unit included ("92-year-old", "91 yo",
    "94 years of age"), as clinical annotation guidelines mark it; after a label
    ("Age: 92") or a verb ("just turned 47") it is the number. Safe Harbor's
    ``generalize_age`` rewrites the number inside ("90+ year-old"). "92 M"/"92 F"
    alone are not matched: at the start of a note they are as often a room, a
    weight or a score as an age.
    """

    ENTITY: ClassVar[str] = entities.AGE
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("years_old", _AGE_DIGITS + _YEARS_OLD, 0.85),
        ("yo", _AGE_DIGITS + _YO, 0.85),
        ("years_of_age", _AGE_DIGITS + _YEARS_OF_AGE, 0.85),
        ("words_years_old", _AGE_WORDS + _YEARS_OLD, 0.85),
        ("months_old", r"(?<![\w.,/:-])\d{1,2}(?!\d)" + _YOUNGER_OLD, 0.7),
        ("age_label", _AGE_LABEL + r"\d{1,3}(?!\d|[.,]\d)" + _NOT_YEARS, 0.75),
        ("turned", _TURNED + r"\d{1,3}(?!\d|[.,]\d)" + _CLAUSE_END, 0.6),
        (
            # "Jane Doe, 47, of Boston": an age in apposition after a name
            "apposition",
            r"\p{Lu}\p{Ll}+[ \t]+\p{Lu}\p{Ll}+,[ \t]\K[1-9]\d"
            r"(?=,[ \t]+(?:of|from|a|an|who|was|is|has|and)\b)",
            0.5,
        ),
        ("stated", _STATED + r"\d{1,3}(?!\d|[.,]\d)" + _NOT_YEARS + _CLAUSE_END, 0.6),
        ("decade", _DECADE, 0.6),
        ("genarian", rf"\b(?i:{'|'.join(_GENARIANS)})s?\b", 0.85),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("age", "old", "year", "yo")

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Pattern matches, each annotated with its age (and lower-bound flag)."""
        results: list[RecognizerResult] = super().analyze(
            text, entities, nlp_artifacts, regex_flags
        )
        for result in results:
            span = text[result.start : result.end]
            parsed = parse_age(span)
            if parsed is None:
                continue
            age, lower_bound = parsed
            if _is_months_old(result):
                unit = _age_unit(span) or text[result.end : result.end + 8]
                age = _infant_age_in_years(age, unit)
            result.recognition_metadata[AGE_METADATA_KEY] = age
            result.recognition_metadata[AGE_LOWER_BOUND_KEY] = lower_bound
        return results

    def invalidate_result(self, pattern_text: str) -> bool:
        """Drop "300-year-old": no person is older than MAX_HUMAN_AGE."""
        parsed = parse_age(pattern_text)
        return parsed is not None and parsed[0] > MAX_HUMAN_AGE


# -------------------------------------------------------------------------- dates

_MONTH_ABBREVIATIONS = words("Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec")
# Month names and abbreviations, as a prefix tree (six times faster than a flat
# alternation on a megabyte of notes). Case rules are applied afterwards, by
# invalidate_result: full names in any case, but lower-case "may" is the verb and
# lower-case "mar", "dec", "jan"... are other words ("dec 2 units" is decreased).
_MONTH = (
    r"\b(?i:jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?\.?|july?\.?"
    r"|aug(?:ust|\.)?|sep(?:t(?:ember|\.)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?)"
    r"(?![\p{L}])"
)
_LOWER_CASE_MONTH_WORD = compile_pattern(
    r"(?-i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\b)"
)
_MONTH_ABBR_UPPER = case_sensitive(alternation(title_and_upper(_MONTH_ABBREVIATIONS)))
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th|ST|ND|RD|TH)?(?![\p{L}\d])"
_DAY_NUM = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]|20)\d{2}(?!\d)"
_YEAR_ANY = r"(?:(?:1[89]|20)\d{2}|\d{2})(?!\d)"
_TIME = (
    r"(?:(?:[ \t]*,?[ \t]*(?:(?i:at)[ \t]+|@[ \t]*)?|T)(?:[01]?\d|2[0-3]):[0-5]\d"
    r"(?::[0-5]\d(?:\.\d+)?)?(?:[ \t]*(?i:[ap]\.?m\.?))?(?:Z|[+-]\d{2}:?\d{2})?(?!\d)"
    r"|(?:[ \t]+(?i:at)[ \t]+|[ \t]*@[ \t]*)(?:[01]\d|2[0-3])[0-5]\d(?!\d)"
    r"|[ \t]+(?:(?i:at)[ \t]+)?(?:1[0-2]|0?[1-9])[ \t]*(?i:[ap]\.?m\.?)(?![\p{L}]))?"
)
_NUM_START = r"(?=\d)(?<![\w/.-])"  # the digit test first: it is the cheap one
_NUM_END = r"(?![\w/]|[.-]\d)"
_MDY = (
    rf"{_NUM_START}(?:{_MONTH_NUM}/{_DAY_NUM}/{_YEAR_ANY}|{_MONTH_NUM}-{_DAY_NUM}-{_YEAR_ANY}"
    rf"|{_MONTH_NUM}\.{_DAY_NUM}\.{_YEAR}){_NUM_END}"
)


def _same_separator(*parts: str) -> str:
    """``parts`` joined by "/", "-" or "." -- the same one throughout ("7/22/2019")."""
    return "(?:" + "|".join(sep.join(parts) for sep in ("/", "-", r"\.")) + ")"


_DAY_OVER_12 = r"(?:1[3-9]|2\d|3[01])"
_MONTH_2 = r"(?:0[1-9]|1[0-2])"
_DAY_2 = r"(?:0[1-9]|[12]\d|3[01])"
_DMY = _NUM_START + _same_separator(_DAY_OVER_12, _MONTH_NUM, _YEAR) + _NUM_END
_ISO = _NUM_START + _same_separator(_YEAR, _MONTH_2, _DAY_2) + r"(?=T\d|(?![\w/]|[.-]\d))"
_MONTH_YEAR_NUM = rf"{_NUM_START}{_MONTH_NUM}/{_YEAR}{_NUM_END}"
_SHORT_CORE = rf"{_MONTH_NUM}/{_DAY_NUM}"
_SHORT = rf"{_NUM_START}{_SHORT_CORE}(?![\w/]|[.-]\d)"
# what follows a ratio, not a date: "5/10 pain", "2/6 murmur", "1/2 tab", "4/5 strength"
_NOT_RATIO = (
    r"(?![ \t]*(?i:pain|murmur|strength|motor|power|scale|reflex(?:es)?|tabs?|tablets?|caps?"
    r"|doses?|pills?|cups?|inch(?:es)?|in\b|of\b|x\b|rating|score|sets|reps|%))"
)
# words after which a bare "7/22" is a date: "seen on 7/22", "DOB 7/22", "since 7/22"
_DATE_CONTEXT = (
    r"\b(?i:on|dated?|dates|admitted|admission|admit|discharged?|d/c|seen|since|from|until"
    r"|till|through|thru|dob|dos|doa|visit|surgery|s/p|as[ \t]+of|starting|started|effective"
    r"|scheduled|returned|presented|born|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\.?)[ \t]*:?[ \t]*(?:(?i:on)[ \t]+)?\K"
)
_RANGE = r"[ \t]*(?:-|–|—|(?i:to|through|thru|and|until))[ \t]*"
# a 24-hour clock time right after a short date: "3/14 0700", "3/14 @ 07:00" (not a dose)
_CLOCK_AFTER = (
    r"(?=[ \t]*@?[ \t]*(?:[01]\d|2[0-3]):?[0-5]\d"
    rf"(?![\d/.:]|[ \t]*(?i:{DOSE_UNITS})))"
)
# a short date as the second half of a range: "7/22-7/25" (a dash may precede it)
_SHORT_RANGE_START = rf"{_NUM_START}{_SHORT_CORE}"
_SHORT_RANGE_END = rf"(?<![\w/.]){_SHORT_CORE}(?![\w/]|[.-]\d)"
_SHORT_IN_RANGE = _SHORT_RANGE_END + _NOT_RATIO
_MONTH_DAY_YEAR = rf"{_MONTH}{OPT_GAP}{_DAY},?{OPT_GAP}{_YEAR}"
_DAY_MONTH_YEAR = rf"(?=\d)(?<![\w.,/-]){_DAY}{GAP}(?:(?i:of){GAP})?{_MONTH},?{GAP}{_YEAR}"
_MONTH_DAY = rf"{_MONTH}{OPT_GAP}{_DAY}(?!{OPT_GAP}(?i:{DOSE_UNITS}))"
_DAY_MONTH = rf"(?=\d)(?<![\w.,/-]){_DAY}{GAP}(?:(?i:of){GAP})?{_MONTH}"
_COMPACT = rf"{_NUM_START}{_DAY_NUM}(?:-|[ \t]?){_MONTH_ABBR_UPPER}(?:-|[ \t]?){_YEAR_ANY}(?![\w/])"
_ANY_FULL_DATE = rf"(?:{_MDY}|{_ISO}|{_MONTH_DAY_YEAR}|{_DAY_MONTH_YEAR}|{_COMPACT})"
_BIRTH_LABEL = (
    r"\b(?i:dob|d\.o\.b\.?|date[ \t]+of[ \t]+birth|birth[ \t]*date|birthday|born(?:[ \t]+on)?)"
    r"[ \t]*[:#=-]?[ \t]*\K"
)


class ClinicalDateRecognizer(RegexRecognizer):
    """Dates more precise than a year, as clinical notes write them.

    Matched: 07/22/2019, 7/22/19, 7-22-2019, 2019-07-22(T14:35), 22/07/2019 (day
    over 12), July 22, 2019, 22 July 2019, 22-JUL-2019, JULY 22, Jul 2019,
    07/2019, and the time that follows a date. A bare year ("in 2019") is left to
    the NER model and its dating-word filter. A short "7/22" is a date only after a
    date word ("on", "since", "DOB", ...), before a clock time ("3/14 0700", "3/14
    @ 07:00") or next to another short date ("7/22-7/25"),
    because alone it is as often a ratio: "5/10 pain", "2/6 murmur". Blood
    pressures ("120/80") fail the month range.
    """

    ENTITY: ClassVar[str] = entities.DATE_TIME
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]] = (
        ("birth_date", _BIRTH_LABEL + rf"(?:{_ANY_FULL_DATE}|{_SHORT}){_TIME}", 0.95),
        ("mdy", _MDY + _TIME, 0.85),
        ("dmy", _DMY + _TIME, 0.8),
        ("iso", _ISO + _TIME, 0.85),
        ("month_day_year", _MONTH_DAY_YEAR + _TIME, 0.85),
        ("day_month_year", _DAY_MONTH_YEAR + _TIME, 0.85),
        ("compact", _COMPACT + _TIME, 0.85),
        ("month_day", _MONTH_DAY + _TIME, 0.6),
        ("day_month", _DAY_MONTH, 0.6),
        ("month_year", rf"{_MONTH},?{GAP}(?:{_YEAR}|['’]\d{{2}}(?!\d))", 0.6),
        ("month_year_numeric", _MONTH_YEAR_NUM, 0.5),
        ("short_after_date_word", _DATE_CONTEXT + _SHORT + _NOT_RATIO + _TIME, 0.6),
        ("short_with_clock", _SHORT + _CLOCK_AFTER, 0.6),
        ("short_range_start", rf"{_SHORT_RANGE_START}(?={_RANGE}{_SHORT_IN_RANGE})", 0.6),
        ("short_range_end", rf"{_SHORT_RANGE_START}{_RANGE}\K{_SHORT_IN_RANGE}", 0.6),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "date",
        "dob",
        "birth",
        "born",
        "admission",
        "admitted",
        "discharge",
        "visit",
        "seen",
    )

    def invalidate_result(self, pattern_text: str) -> bool:
        """Drop matches whose month is a lower-case abbreviation or "may"."""
        return _LOWER_CASE_MONTH_WORD.search(pattern_text) is not None


# ---------------------------------------------------------------------- facilities

_FACILITY_ENDINGS = (
    "Hospital",
    "Hospitals",
    "Medical Center",
    "Medical Centre",
    "Medical Centers",
    "Health Center",
    "Health Centre",
    "Health Centers",
    "Health Sciences Center",
    "Cancer Center",
    "Cancer Institute",
    "Heart Institute",
    "Eye Institute",
    "Clinic",
    "Clinics",
    "Infirmary",
    "Sanatorium",
    "Sanitarium",
    "Hospice",
    "Rehabilitation Center",
    "Rehabilitation Hospital",
    "Rehabilitation Institute",
    "Rehab Center",
    "Nursing Home",
    "Nursing Facility",
    "Nursing Center",
    "Care Center",
    "Health System",
    "Health Systems",
    "Healthcare System",
    "Health Care System",
    "Healthcare",
    "HealthCare",
    "Medical Group",
    "Medical Associates",
    "Surgical Center",
    "Surgery Center",
    "Surgicenter",
    "Urgent Care",
    "Psychiatric Center",
    "Dialysis Center",
    "Imaging Center",
    "Birth Center",
    "Medical Campus",
)
# words that never start or sit inside a facility name: they are the sentence
# around it ("SEEN AT", "TRANSFERRED TO", "DISCHARGE SUMMARY")
_FACILITY_STOP = words(
    "the of and for a an at by from in into is on or per to with was were this that these "
    "his her their our your my its as be been being has have had will would should may can "
    "transferred transfer admitted admit discharged discharge seen followed sent taken brought "
    "presented presents arrived went go going called follow followup up f/u back home patient "
    "pt via see call contact referred referral summary note notes report history physical "
    "progress consult consultation operative brief hospital-acquired yesterday today tomorrow "
    "previously recently currently also then when where while after before during since"
)
_GENERAL_NOT_FACILITY = words(
    "surgeon attorney secretary inspector major lieutenant brigadier postmaster consul governor "
    "solicitor director adjutant auditor comptroller vicar accountant procurator receiver"
)
_CONNECTOR = r"(?:of|the|and|for|de|la|del|&|OF|THE|AND|FOR|DE|LA|DEL)"


def _facility_word(extra_stop: tuple[str, ...] = ()) -> str:
    """A capitalised word of a facility name ("St.", "MARY'S", "Beth", "UCSF")."""
    stop = alternation((*_FACILITY_STOP, *extra_stop))
    return rf"(?!(?i:{stop})(?![\p{{L}}'’&/-]))(?:(?:St|ST|Mt|MT|Ft|FT)\.|\p{{Lu}}[\p{{L}}'’&-]*)"


_FAC_WORD = _facility_word()
_GENERAL_WORD = _facility_word(_GENERAL_NOT_FACILITY)
_FAC_SEQ = rf"{_FAC_WORD}(?:{GAP}(?:{_CONNECTOR}{GAP}){{0,2}}{_FAC_WORD}){{0,5}}"
_FAC_END = alternation(title_and_upper(_FACILITY_ENDINGS))
_NAME_START = r"(?<![\p{L}'’.-])"

# Facility names are found keyword first ("Hospital", "Medical Center", ...), then
# the name is read backwards from it within the line: scanning every capitalised
# word of a note for a name that might end in a keyword was 10x slower.
# "St. Luke's", "ST. MARY'S", "Saint Joseph's" (not "St. John's wort", a herb)
_SAINT_RE = compile_pattern(
    r"(?<![\p{L}\d])(?:St\.?|ST\.?|Saint|SAINT)[ \t]+\p{Lu}[\p{L}-]+['’][sS](?![\p{L}\d])"
    r"(?![ \t]+(?i:wort))"
)
_KEYWORD_RE = compile_pattern(
    case_sensitive(
        rf"(?<![\p{{L}}'’-])(?:(?P<ending>{_FAC_END})|(?P<general>General)"
        r"|(?P<memorial>Memorial|MEMORIAL))(?![\p{L}])"
    )
)
_NAME_BEFORE_KEYWORD_RE = compile_pattern(case_sensitive(rf"{_NAME_START}{_FAC_SEQ}{GAP}\Z"))
_NAME_BEFORE_GENERAL_RE = compile_pattern(
    case_sensitive(rf"{_NAME_START}{_GENERAL_WORD}(?:{GAP}{_GENERAL_WORD}){{0,2}}{GAP}\Z")
)
_NAME_BEFORE_MEMORIAL_RE = compile_pattern(
    case_sensitive(rf"{_NAME_START}{_FAC_WORD}(?:{GAP}{_FAC_WORD}){{0,2}}{GAP}\Z")
)
# "Hospital for Special Surgery", "Hospital of the University of Pennsylvania"
_NAME_AFTER_LEADING_RE = compile_pattern(
    case_sensitive(rf"{GAP}(?:for|of|FOR|OF){GAP}(?:(?:the|THE){GAP})?{_FAC_SEQ}(?![\p{{L}}])")
)
_NAME_AFTER_MEMORIAL_RE = compile_pattern(
    case_sensitive(
        rf"{GAP}(?!(?i:day|service|fund|hospital)\b){_FAC_WORD}(?:{GAP}{_FAC_WORD}){{0,2}}"
        r"(?![\p{L}])"
    )
)
_LEADING_KEYWORDS = frozenset(title_and_upper(("Hospital", "Clinic", "Infirmary")))
# "Hospital Course", "Clinic Note": a section or an attribute, not the facility
_NOT_AFTER_FACILITY_RE = compile_pattern(
    r"[ \t]*(?i:course|stay|days?|admissions?|visits?|discharge|follow|records?|policy|beds?"
    r"|acquired|medicine|based|setting|wide|team|staff|floor|unit|note|notes|encounter"
    r"|readmission|number|#|id)(?![\p{L}])"
)
# "General Surgery", "General: NAD", "Surgeon General"
_NOT_AFTER_GENERAL_RE = compile_pattern(
    r"[ \t]*:|[ \t]+(?i:surgery|medicine|anesthesia|appearance|exam|condition|health"
    r"|practitioner|practice|pediatrics|ward|population|public|hospital|clinic|medical)\b"
)
_NOT_AFTER_MEMORIAL_RE = compile_pattern(
    r"[ \t]+(?i:day|service|fund|hospital|medical|health|clinic|cancer)\b"
)

# Words that make a department or a kind of facility, not a named one:
# "Cardiology Clinic", "Urgent Care Center", "Community Hospital".
_GENERIC_FACILITY_WORDS: frozenset[str] = frozenset(
    words("""
    the a an our their this that local nearby outside private public free new old main
    north south east west central regional specialty multispecialty student employee staff
    cardiology oncology hematology rheumatology neurology nephrology pulmonary pulmonology
    gastroenterology gi endocrinology endocrine diabetes dermatology urology orthopedic
    orthopedics orthopaedic pediatric pediatrics psychiatry psychiatric mental behavioral
    health ob obgyn ob/gyn gyn gynecology obstetrics prenatal women's womens men's family
    primary care urgent walk-in wound pain anticoagulation coumadin infusion dialysis
    transplant surgical surgery plastic vascular ent ophthalmology eye vision dental hearing
    sleep allergy immunology infectious disease diseases id hiv travel sports medicine
    internal general geriatric geriatrics memory spine hand foot podiatry physical therapy
    rehab rehabilitation occupational speech lab laboratory radiology imaging cancer heart
    breast lung liver kidney renal stroke trauma burn emergency outpatient inpatient
    ambulatory community county city state university veterans va children's childrens
    medical hospital clinic center centre institute memorial teaching resident residents
    nursing physician physicians doctors doctor fertility weight bariatric lipid hypertension
    heart failure coagulation asthma copd headache seizure epilepsy movement disorders
    neuromuscular tb std sti methadone suboxone addiction detox substance abuse exam review
    systems constitutional appearance very fever anesthesia anesthesiology operative
    operating orthopaedics neurosurgery otolaryngology urogynecology critical acute
    long-term intensive step-down
    observation evaluation eval management treatment monitoring workup procedure testing
    tests further admission stabilization placement
    """)
)
_WORD_SPLIT = compile_pattern(r"[\p{L}'’&/.-]+")
_END_WORDS = frozenset(w.lower() for e in _FACILITY_ENDINGS for w in e.split()) | {"general"}
_CONNECTOR_WORDS = frozenset({"of", "the", "and", "for", "de", "la", "del", "&", "st.", "saint"})


def is_generic_facility(span: str) -> bool:
    """True when every word besides the facility keyword is a generic one.

    "Cardiology Clinic", "Community Hospital" and "Urgent Care Center" name a
    kind of place and identify no one; "Mayo Clinic" does.
    """
    tokens = [w.lower().replace("’", "'") for w in _WORD_SPLIT.findall(span)]
    names = [w for w in tokens if w not in _END_WORDS and w not in _CONNECTOR_WORDS]
    return all(
        w in _GENERIC_FACILITY_WORDS or w.removesuffix("'s") in _GENERIC_FACILITY_WORDS
        for w in names
    )


class FacilityRecognizer(ContextRecognizer):
    """Named hospitals, clinics and other care facilities.

    A name is one to six capitalised words (Title Case or ALL CAPS, with "of",
    "the", "and" inside) ending in a facility keyword ("Beth Israel Deaconess
    Medical Center", "ST. MARY'S HOSPITAL"), or a keyword followed by "of"/"for"
    and a name ("Hospital for Special Surgery"). Lower-case keywords never match
    ("admitted to the hospital"), names made only of generic words ("Cardiology
    Clinic") are dropped, and so are sections ("HOSPITAL COURSE"). "X General"
    and "X Memorial" without a keyword score lower. A saint's name in the possessive
    is a hospital or a parish even without a keyword ("ST. LUKE'S ED", "St. Mary's"),
    but not the herb ("St. John's wort").
    """

    ENTITY: ClassVar[str] = entities.FACILITY
    NAMED_SCORE: ClassVar[float] = 0.75
    SAINT_SCORE: ClassVar[float] = 0.85
    WEAK_SCORE: ClassVar[float] = 0.4
    #: how far before its keyword a facility name may start
    WINDOW_CHARS: ClassVar[int] = 120

    CONTEXT: ClassVar[tuple[str, ...]] = (
        "hospital",
        "clinic",
        "admitted",
        "transferred",
        "facility",
        "center",
    )

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Facility names around each facility keyword of ``text``."""
        results: list[RecognizerResult] = []
        for keyword in _KEYWORD_RE.finditer(text):
            found = self._name_around(text, keyword)
            if found is None:
                continue
            start, end, score, reason = found
            if not is_generic_facility(text[start:end]):
                results.append(make_result(self, start, end, score, reason))
        for saint in _SAINT_RE.finditer(text):
            start, end = saint.span()
            results.append(make_result(self, start, end, self.SAINT_SCORE, "saint"))
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(results)
        return deduplicated

    def _name_around(self, text: str, keyword: Any) -> tuple[int, int, float, str] | None:
        """(start, end, score, reason) of the facility named around ``keyword``."""
        start, end = keyword.span()
        window = window_before(text, start, self.WINDOW_CHARS)
        if keyword.group("ending") is not None:
            if _NOT_AFTER_FACILITY_RE.match(text, end):
                return None
            before = _NAME_BEFORE_KEYWORD_RE.search(text, window, start)
            if before is not None:
                return before.start(), end, self.NAMED_SCORE, "name_keyword"
            after = None
            if keyword.group() in _LEADING_KEYWORDS:
                after = _NAME_AFTER_LEADING_RE.match(text, end)
            return None if after is None else (start, after.end(), self.NAMED_SCORE, "keyword_name")
        if keyword.group("general") is not None:
            if _NOT_AFTER_GENERAL_RE.match(text, end):
                return None
            before = _NAME_BEFORE_GENERAL_RE.search(text, window, start)
            return None if before is None else (before.start(), end, self.WEAK_SCORE, "general")
        if _NOT_AFTER_MEMORIAL_RE.match(text, end):
            return None
        before = _NAME_BEFORE_MEMORIAL_RE.search(text, window, start)
        if before is not None:
            return before.start(), end, self.WEAK_SCORE, "memorial"
        after = _NAME_AFTER_MEMORIAL_RE.match(text, end)
        return None if after is None else (start, after.end(), self.WEAK_SCORE, "memorial")
