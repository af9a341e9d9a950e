"""Later mentions of a name found once are found too (privsynth.pii.propagation)."""

from __future__ import annotations

from privsynth.pii.engine import PIIDetector
from privsynth.pii.propagation import RECOGNIZER, propagate
from privsynth.pii.spans import Detection


def _texts(text: str, detections: list[Detection]) -> list[str]:
    return [text[d.start : d.end] for d in detections]


def test_a_surname_alone_is_found_after_the_full_name() -> None:
    text = "Film directed by Maciej Borkowski and starring Borkowski."
    found = PIIDetector().analyze(text)
    assert "Borkowski" in _texts(text, found)
    assert any(d.recognizer == RECOGNIZER for d in found)


def test_all_caps_mentions_of_a_titled_name_are_found() -> None:
    text = "Seen by Dr. Anna Wadlington today.\nPLAN REVIEWED WITH WADLINGTON."
    found = _texts(text, PIIDetector().analyze(text))
    assert "WADLINGTON" in found


def test_dictionary_words_eponyms_and_lower_case_do_not_spread() -> None:
    text = "Mary Hill met Ann Crohn. Walk up the hill. Crohn's disease. crohn"
    first = [Detection(0, 9, "PERSON", 0.9), Detection(14, 23, "PERSON", 0.9)]
    added = _texts(text, propagate(text, first))
    assert added == []  # "hill" is a word, "Crohn's disease" an eponym, "crohn" lower case


def test_organisations_spread_only_as_whole_repeats() -> None:
    text = "Acme Widgets hired her. Acme Widgets pays well. Acme is big."
    first = [Detection(0, 12, "ORGANIZATION", 0.9)]
    added = propagate(text, first)
    assert _texts(text, added) == ["Acme Widgets"]
    assert added[0].entity_type == "ORGANIZATION"


def test_nothing_found_means_nothing_added() -> None:
    assert propagate("No names here at all.", []) == []
