"""privsynth.text.placeholders: PHI -> numbered placeholders, on written and real notes.

The notes in tests/data/text_notes_synthetic.txt were written for these tests. The real
ICU nursing notes with gold PHI labels (GPL-2.0, not copyable into the repository) and
mtsamples are read from the shared data folder when it is there; those tests skip
otherwise.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.pii.spans import Detection
from privsynth.text.placeholders import (
    MAX_INDEX,
    PLACEHOLDER_PATTERN,
    PLACEHOLDER_TYPES,
    PlaceholderCorpus,
    SpanDetector,
    all_placeholders,
    default_detector,
    find_tags,
    placeholder_text,
    to_placeholders,
)
from privsynth.text.refill import refill

ROOT = Path(__file__).resolve().parents[3]
NOTES_FILE = ROOT / "tests" / "data" / "text_notes_synthetic.txt"
SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))
GOLD_NOTES = SHARED / "clinical_notes_phi_dev" / "nursing_notes_phi_dev.jsonl"
MTSAMPLES = Path(__file__).parents[2] / "data" / "mtsamples_sample.csv"  # CC0, bundled

#: the PHI written into each synthetic note (names, dates, phones, numbers, places)
KNOWN_PHI = [
    ["03/14/2021", "03/12/2021", "Rosalind", "Okafor", "Marguerite", "Wrenfield",
     "(617) 555-0142", "00481932", "March 15, 2021", "Tobias", "508-555-0199"],
    ["HALVORSEN", "PETTIBONE", "AGNES", "KOWALCZYK", "4/2", "4417", "BRENDAN", "WORCESTER",
     "413-555-0123"],
    ["rosemary", "quackenbush", "ingersoll", "7/22", "new haven",
     "rquackenbush@example.net"],
    ["Evangeline", "Marchetti", "1/3/2020", "1/9/2020", "Lucius", "Abernathy", "01/16/2020",
     "03/19/2020"],
    ["Cornelius", "Fairweather", "5/5/2019", "Imogen", "Stroud"],
]  # fmt: skip


def _read_notes() -> list[str]:
    lines = [line for line in NOTES_FILE.read_text("utf-8").splitlines() if line[:1] != "#"]
    return [note.strip() for note in "\n".join(lines).split("=====") if note.strip()]


def _occurs(value: str, text: str, ignore_case: bool = True) -> bool:
    flags = re.IGNORECASE if ignore_case else 0
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, flags) is not None


@pytest.fixture(scope="module")
def detector() -> SpanDetector:
    return default_detector()


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return _read_notes()


@pytest.fixture(scope="module")
def corpus(notes: list[str], detector: SpanDetector) -> PlaceholderCorpus:
    return to_placeholders(notes, detector)


def test_known_phi_is_replaced_and_never_survives(
    notes: list[str], corpus: PlaceholderCorpus
) -> None:
    assert len(notes) == len(KNOWN_PHI) == len(corpus.texts)
    for original, out, values in zip(notes, corpus.texts, KNOWN_PHI, strict=True):
        for value in values:
            assert _occurs(value, original)
            assert not _occurs(value, out), value


def test_same_value_gets_same_index_titles_and_units_stay(corpus: PlaceholderCorpus) -> None:
    first, caps, lower, summary, _ = corpus.texts
    # "Dr. Rosalind Okafor" ... "Okafor" ... "Dr. Okafor": one person, title kept as text
    assert "Seen by\nDr. <PERSON_1> this am; <PERSON_1> aware" in first
    assert "f/u with Dr. <PERSON_1> on" in first
    assert "<PERSON_2>" in first  # the wife is someone else
    assert "<AGE_1> YO male" in first
    assert "SEEN BY DR <PERSON_1> AND DR <PERSON_2>" in caps
    assert "DR <PERSON_1> TO CALL FAMILY" in caps
    # "Evangeline Marchetti" ... "Mrs. Marchetti"
    assert "Patient: <PERSON_1>, <AGE_1> years old" in summary
    assert "Mrs. <PERSON_1> tolerated" in summary
    assert "sister <PERSON_1> called" in lower and "dr <PERSON_2> aware" in lower


def test_indices_follow_first_appearance(corpus: PlaceholderCorpus) -> None:
    for text in corpus.texts:
        seen: dict[str, int] = {}
        for kind, k in PLACEHOLDER_PATTERN.findall(text):
            index = int(k)
            assert index <= seen.get(kind, 0) + 1  # a new value takes the next index
            seen[kind] = max(seen.get(kind, 0), index)


def test_tenth_distinct_value_reuses_the_last_index(corpus: PlaceholderCorpus) -> None:
    summary = corpus.texts[3]  # twelve distinct dates
    indices = [int(k) for kind, k in PLACEHOLDER_PATTERN.findall(summary) if kind == "DATE"]
    assert len(indices) == 12
    assert indices[:9] == list(range(1, 10))
    assert indices[9:] == [MAX_INDEX] * 3
    assert corpus.capped >= 3
    vocabulary = set(all_placeholders())
    for text in corpus.texts:
        assert all(tag.group(0) in vocabulary for tag in PLACEHOLDER_PATTERN.finditer(text))
        assert not re.search(r"<[A-Z]+_(?:0|\d{2,})>", text)


def test_vocabulary() -> None:
    vocabulary = all_placeholders()
    assert len(vocabulary) == len(set(vocabulary)) == len(PLACEHOLDER_TYPES) * MAX_INDEX
    assert all(PLACEHOLDER_PATTERN.fullmatch(p) for p in vocabulary)
    assert "<PERSON_1>" in vocabulary and "<DATE_9>" in vocabulary
    assert "<PERSON_10>" not in vocabulary and "<PERSON_0>" not in vocabulary


def test_literal_placeholders_in_input_are_neutralised(corpus: PlaceholderCorpus) -> None:
    out = corpus.texts[4]
    assert "‹PERSON_1> reviewed labs with ‹DATE_3>" in out
    assert corpus.neutralised == 2
    # only the placeholders the step wrote look like placeholders now
    tags = find_tags(out)
    assert tags and all(t.well_formed for t in tags)
    assert len(tags) == len(PLACEHOLDER_PATTERN.findall(out))


def test_summary_holds_counts_only(notes: list[str], corpus: PlaceholderCorpus) -> None:
    summary = corpus.summary()
    dumped = json.dumps(summary)
    for values in KNOWN_PHI:
        assert not any(_occurs(v, dumped) for v in values)
    assert summary["documents"] == 5 and summary["documents_with_phi"] == 5
    assert set(summary["placeholders"]) == set(PLACEHOLDER_TYPES)
    total = sum(len(PLACEHOLDER_PATTERN.findall(t)) for t in corpus.texts)
    assert sum(corpus.counts.values()) == total
    assert corpus.counts["PERSON"] >= 12 and corpus.counts["PHONE"] >= 4


def test_text_without_phi_is_unchanged(detector: SpanDetector) -> None:
    texts = ["Lungs clear bilaterally. Abdomen soft, nontender.", ""]
    result = to_placeholders(texts, detector)
    assert result.texts == tuple(texts)
    assert result.documents_with_phi == 0 and sum(result.counts.values()) == 0


def _detections(text: str, *spans: tuple[str, str]) -> list[Detection]:
    """Detections of each (value, entity) at every whole-word occurrence."""
    found = []
    for value, entity in spans:
        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            found.append(Detection(m.start(), m.end(), entity, 0.9))
    return found


def test_surname_links_to_full_name_either_way() -> None:
    text = "Smith seen. John Smith called. Dr. Smith agrees. Mary Jones and Jones."
    found = _detections(text, ("John Smith", "PERSON"), ("Mary Jones", "PERSON"))
    titled, last = text.index("Dr. Smith") + 4, text.rindex("Jones")
    found += [Detection(0, 5, "PERSON", 0.9), Detection(titled, titled + 5, "PERSON", 0.9)]
    found += [Detection(last, last + 5, "POSSIBLE_PHI", 0.5)]
    out = placeholder_text(text, found)
    assert out == (
        "<PERSON_1> seen. <PERSON_1> called. Dr. <PERSON_1> agrees. <PERSON_2> and <PERSON_2>."
    )


def test_two_full_names_sharing_a_surname_stay_apart() -> None:
    text = "John Smith and Mary Smith; Smith"
    found = _detections(text, ("John Smith", "PERSON"), ("Mary Smith", "PERSON"))
    found.append(Detection(27, 32, "PERSON", 0.9))
    assert placeholder_text(text, found) == "<PERSON_1> and <PERSON_2>; <PERSON_1>"


def test_values_compare_as_the_surrogates_module_normalises() -> None:
    text = "7/22/2019, July 22, 2019, 7/23/2019; (617) 555-0142 or 617.555.0142; BOSTON, Boston"
    found = _detections(
        text,
        ("7/22/2019", "DATE_TIME"), ("July 22, 2019", "DATE_TIME"), ("7/23/2019", "DATE_TIME"),
        ("(617) 555-0142", "PHONE_NUMBER"), ("617.555.0142", "PHONE_NUMBER"),
        ("BOSTON", "LOCATION"), ("Boston", "LOCATION"),
    )  # fmt: skip
    assert placeholder_text(text, found) == (
        "<DATE_1>, <DATE_1>, <DATE_2>; <PHONE_1> or <PHONE_1>; <LOCATION_1>, <LOCATION_1>"
    )


def test_overlaps_merge_and_every_detector_type_maps() -> None:
    text = "x John Smith y 123-45-6789 z"
    found = [
        Detection(2, 6, "PERSON", 0.9),
        Detection(4, 12, "POSSIBLE_PHI", 0.5),
        Detection(15, 26, "US_SSN", 0.9),
    ]
    assert placeholder_text(text, found) == "x <PERSON_1> y <ID_1> z"
    from privsynth.pii.entities import DEFAULT_ENTITIES
    from privsynth.text.placeholders import ENTITY_TYPES

    assert set(DEFAULT_ENTITIES) <= set(ENTITY_TYPES)
    assert set(ENTITY_TYPES.values()) <= set(PLACEHOLDER_TYPES)


def test_bad_input_is_refused_with_a_hint(detector: SpanDetector) -> None:
    with pytest.raises(InputDataError) as error:
        to_placeholders("one text", detector)
    assert error.value.hint
    with pytest.raises(InputDataError):
        to_placeholders(["fine", None], detector)  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        to_placeholders(["x"], n_process=0)
    with pytest.raises(ConfigurationError):
        to_placeholders(["x"], detector, n_process=2)


def test_round_trip_leaves_no_tag(corpus: PlaceholderCorpus) -> None:
    import numpy as np

    out = refill(list(corpus.texts), np.random.default_rng(7))
    for text in out:
        assert not re.search(r"<[A-Za-z]", text)
        assert not PLACEHOLDER_PATTERN.search(text)


# ------------------------------------------------------------------ real notes


def _gold_notes() -> list[dict[str, object]]:
    if not GOLD_NOTES.exists():
        pytest.skip(f"real clinical notes not available at {GOLD_NOTES}")
    with GOLD_NOTES.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _leaks(note: dict[str, object], out: str) -> tuple[int, int]:
    """(gold spans counted, spans whose surface survives) with the measure of the data
    set's SOURCE.md: no DateYear, 2+ characters, not also ordinary text of the note."""
    text, spans = str(note["text"]), note["spans"]
    assert isinstance(spans, list)
    counted = leaked = 0
    for span in spans:
        surface = span["text"]
        if span["entity_type"] == "DateYear" or len(surface) < 2:
            continue
        pattern = rf"(?<!\w){re.escape(surface)}(?!\w)"
        gold_uses = sum(1 for s in spans if s["text"] == surface)
        if len(re.findall(pattern, text)) > gold_uses:
            continue  # also ordinary text in this note
        counted += 1
        leaked += re.search(pattern, out) is not None
    return counted, leaked


def test_gold_phi_recall_on_real_nursing_notes(detector: SpanDetector) -> None:
    notes = _gold_notes()
    corpus = to_placeholders([str(n["text"]) for n in notes], detector)
    counted = leaked = 0
    for note, out in zip(notes, corpus.texts, strict=True):
        c, lk = _leaks(note, out)
        counted, leaked = counted + c, leaked + lk
    recall = 1 - leaked / counted
    print(f"placeholder PHI recall on {len(notes)} real notes: {recall:.3f} ({leaked}/{counted})")
    assert counted > 700
    assert recall >= 0.96
    assert corpus.counts["URL"] < 20  # run-together sentences ("down.Pt") are no URLs


def test_mtsamples_ages_dates_and_round_trip(detector: SpanDetector) -> None:
    if not MTSAMPLES.exists():
        pytest.skip(f"mtsamples not available at {MTSAMPLES}")
    import numpy as np
    import pandas as pd

    column = pd.read_csv(MTSAMPLES)["transcription"].dropna().drop_duplicates()
    texts = [str(t) for t in column if "-year-old" in t][:40]
    corpus = to_placeholders(texts, detector)
    for original, out in zip(texts, corpus.texts, strict=True):
        assert not re.search(r"\b\d{1,3}-year-old", out)
        if re.search(r"(?<![\d/-])\d{1,3}-year-old", original):  # not "3-1/2-year-old"
            assert re.search(r"<AGE_[1-9]>-year-old", out)
        for date in re.findall(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", original):
            assert date not in out
    assert corpus.documents_with_phi == len(texts)
    filled = refill(list(corpus.texts), np.random.default_rng(0))
    assert not any(re.search(r"<[A-Za-z]", t) for t in filled)


@pytest.mark.slow
def test_worker_processes_give_the_same_result() -> None:
    notes = _read_notes() * 8  # 40 documents: more than one chunk
    serial = to_placeholders(notes)
    parallel = to_placeholders(notes, n_process=2)
    assert parallel == serial
