"""High-recall scrubbing: a word stays only when it is known to be safe.

Sentences written in the style of ICU nursing notes (ALL CAPS, lower case, shorthand),
scrubbed by the real detector plus the high-recall layer.
"""

from __future__ import annotations

import pytest

from privsynth.errors import ConfigurationError
from privsynth.pii.high_recall import is_safe_word, safe_vocabulary
from privsynth.pii.scrub import Scrubber, ScrubConfig, ScrubReport

NOTE = (
    "resp: pt remains intubated on simv, sats 97%. dr green aware of sbp 80s. "
    "transfer to quartermain 2 when bed available. son rob called from baltimore, "
    "tel 410 392 0780. last dialysis 8/18, cabg '09. plan: cont levo gtt, f/u labs."
)
PHI = ("green", "quartermain", "rob", "baltimore", "410 392 0780", "8/18", "'09")
SAFE = ("intubated", "simv", "sats", "transfer", "dialysis", "levo", "gtt", "labs")


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(ScrubConfig(operator="tag", mode="high_recall"))


def _scrub(scrubber: Scrubber, text: str) -> str:
    return next(scrubber.scrub_texts([text], ScrubReport("none", "tag")))


@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_phi_goes_and_clinical_words_stay_in_any_case(scrubber: Scrubber, case: object) -> None:
    text = case(NOTE)  # type: ignore[operator]
    out = _scrub(scrubber, text).lower()
    for phi in PHI:
        assert phi not in out, phi
    for word in SAFE:
        assert word in out, word


def test_the_precise_mode_misses_what_high_recall_masks() -> None:
    precise = Scrubber(ScrubConfig(operator="tag"))
    out = next(precise.scrub_texts([NOTE], ScrubReport("none", "tag"))).lower()
    assert "quartermain" in out  # an unknown ward name: no recognizer names it


def test_names_that_are_not_english_words_are_never_safe() -> None:
    assert not is_safe_word("Emperatrice") and not is_safe_word("KARGAS")
    assert is_safe_word("Foley") or is_safe_word("foley")  # clinical vocabulary (eponym)
    assert is_safe_word("Cultures") and is_safe_word("pt's")
    assert "maryland" not in safe_vocabulary()  # US states and countries are places
    assert len(safe_vocabulary()) > 50_000


def test_towns_are_places_even_when_they_are_words(scrubber: Scrubber) -> None:
    out = _scrub(scrubber, "pt lives in new haven, daughter in MILFORD MILL. cont lasix.")
    assert "haven" not in out.lower() and "milford" not in out.lower()
    assert "lives" in out and "lasix" in out


def test_inflections_and_typing_errors_of_safe_words_are_safe() -> None:
    for word in ("trending", "dampened", "draining", "stopped", "recieved", "extremeties"):
        assert is_safe_word(word), word
    for word in ("Kargas", "Emperatrice", "Cucchiara"):  # names: no English neighbour
        assert not is_safe_word(word), word


def test_clinical_headings_mistaken_for_names_are_kept(scrubber: Scrubber) -> None:
    out = _scrub(scrubber, "NEURO: ALERT. RESP: LS CLEAR. FOLEY DRAINING CLEAR URINE.")
    assert "NEURO" in out and "FOLEY" in out and "RESP" in out


def test_facilities_initials_and_first_names_mark_english_words_as_names(
    scrubber: Scrubber,
) -> None:
    out = _scrub(
        scrubber,
        "TRANSFERRED FROM HOLY CROSS HOSPITAL IN 1998. E. WELSH AWARE. grace dudak here. "
        "CX GREW E. COLI.",
    )
    for phi in ("HOLY", "CROSS", "1998", "WELSH", "grace", "dudak"):
        assert phi not in out, phi
    assert "COLI" in out  # a clinical word after an initial is no name


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="mode"):
        ScrubConfig(mode="paranoid")


def _seconds(scrubber: Scrubber, text: str) -> float:
    import time

    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        _scrub(scrubber, text)
        best = min(best, time.perf_counter() - started)
    return best


def test_long_unpunctuated_all_caps_notes_scrub_in_linear_time(scrubber: Scrubber) -> None:
    """philter's salutation patterns backtrack for minutes on such notes; every pattern
    here must stay linear: four times the text may take at most about four times as long
    (8x allows for noise on a shared machine; quadratic behaviour gives 16x)."""
    words = "PT SEEN BY DR GREEN WIFE MARY AWARE SATS STABLE CONT LEVO GTT NO CHANGE "
    short = words * 150
    long = words * 600
    _scrub(scrubber, short)  # warm up
    assert _seconds(scrubber, long) < 8 * _seconds(scrubber, short) + 0.5
