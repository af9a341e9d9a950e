"""Precision filters on the NER model's output and overlap merging (privsynth.pii.filters)."""

from __future__ import annotations

import pytest

from privsynth.pii.filters import MODEL_RECOGNIZER, is_plausible, merge_overlaps
from privsynth.pii.spans import Detection


def model(text: str, span: str, entity: str, occurrence: int = 0) -> Detection:
    """A detection of ``span`` (its ``occurrence``-th appearance) by the NER model."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(span, start + 1)
    return Detection(start, start + len(span), entity, 0.85, MODEL_RECOGNIZER)


@pytest.mark.parametrize(
    ("text", "span", "entity"),
    [
        ("Placenta: Anterior Grade I.  Uterus: Normal.", "Placenta", "LOCATION"),
        ("Lungs clear. Bowel sounds are active.", "Bowel", "PERSON"),
        ("Ultrasound shows a small fibroid.", "Ultrasound", "PERSON"),
        ("2.  Trace aortic regurgitation.", "Trace", "ORGANIZATION"),
        ("Flomax 0.4 mg p.o. q.d. Zocor 20 mg p.o. q.d.", "Zocor", "ORGANIZATION"),
        ("He was evaluated in the Emergency Department and admitted.", "the Emergency Department",
         "ORGANIZATION"),
        ("IV sedation was given by Anesthesia Department.", "Anesthesia Department",
         "ORGANIZATION"),
        ("Conjunctivae were quiet, OU.  The anterior chamber is deep, OU.", "OU", "PERSON"),
        ("PATIENT HAS NASAL MUCOSA SWOLLEN AND ERYTHEMATOUS TODAY.", "NASAL MUCOSA", "PERSON"),
        ("Drinking is described as social; no drinking since May.", "Drinking", "ORGANIZATION"),
        ("Patient presents with Mom and Dad for her well-child check.", "Mom", "PERSON"),
    ],
)  # fmt: skip
def test_model_false_positives_are_dropped(text: str, span: str, entity: str) -> None:
    assert not is_plausible(text, model(text, span, entity))


@pytest.mark.parametrize(
    ("text", "span", "entity"),
    [
        ("Nicole: Remember me, Mary?", "Nicole", "PERSON"),
        ("Estonia is a small country.", "Estonia", "LOCATION"),
        ("He moved to Amsterdam in May.", "Amsterdam", "LOCATION"),
        ("Ms. Austin flew to Sweden. Maarit came along.", "Maarit", "PERSON"),
        ("MRS. JOHNSON WAS SEEN BY HER PCP, DR. SMITH, TODAY IN CLINIC.", "JOHNSON", "PERSON"),
        ("Looking to support Transunion in its mission", "Transunion", "ORGANIZATION"),
        ("The orchestra was founded in 1977.", "1977", "DATE_TIME"),
        ("American food is served here; american chefs cook it.", "American", "NRP"),
        ("Jane Doe, the Cinematographer, said so.", "Cinematographer", "PERSON"),
    ],
)
def test_model_names_with_evidence_are_kept(text: str, span: str, entity: str) -> None:
    assert is_plausible(text, model(text, span, entity))


@pytest.mark.parametrize(
    ("text", "year"),
    [("Hemoglobin 1977 on admission", "1977"), ("Gave in 2000 mL of saline", "2000")],
)
def test_numbers_that_look_like_years_are_not_dates(text: str, year: str) -> None:
    assert not is_plausible(text, model(text, year, "DATE_TIME"))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Stent placed in 2000.", "2000"),
        ("We moved in the 1980s.", "the 1980s"),
        ("CLL, dx 1989; treated from 1990 to 1995", "1989"),
    ],
)
def test_years_after_a_dating_word_are_dates(text: str, span: str) -> None:
    assert is_plausible(text, model(text, span, "DATE_TIME"))


def test_shouted_dictionary_phrases_are_not_organisations() -> None:
    text = "PMH: CARDIAC STENT IN 2000."
    assert not is_plausible(text, model(text, "CARDIAC STENT", "ORGANIZATION"))


def test_other_recognizers_bypass_the_model_filters() -> None:
    text = "Placenta: Anterior"
    detection = Detection(0, 8, "LOCATION", 0.6, "PlaceRecognizer")
    assert is_plausible(text, detection)


def test_merge_overlaps_keeps_the_best_type_over_the_union() -> None:
    merged = merge_overlaps(
        [
            Detection(0, 10, "STREET_ADDRESS", 0.7, "a"),
            Detection(5, 15, "LOCATION", 0.6, "b"),
            Detection(20, 25, "US_ZIP_CODE", 0.6, "c"),
        ]
    )
    assert [(d.start, d.end, d.entity_type) for d in merged] == [
        (0, 15, "STREET_ADDRESS"),
        (20, 25, "US_ZIP_CODE"),
    ]


def test_occupation_words_need_a_job_context_to_be_kept() -> None:
    text = "The Cardiologist reviewed the echo."
    assert not is_plausible(text, model(text, "Cardiologist", "PERSON"))
