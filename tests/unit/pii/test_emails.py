"""E-mail validation stays offline and local to privsynth (issue 13).

Presidio's e-mail recognizer validates matches with tldextract's process-wide
extractor, which downloads the public suffix list on first use; privsynth used to patch
that extractor for the whole process. Here the global extractor is replaced by one that
fails the test when called: detection must not need it, and must still tell real
domains from made-up ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from privsynth.pii.engine import PIIDetector
from privsynth.pii.recognizers import default_recognizers
from privsynth.pii.recognizers.emails import OfflineEmailRecognizer

TEXT = "Mail john.smith@example.com, jane@mail.hospital.co.uk or bob@example.invalidtld."
VALID = {"john.smith@example.com", "jane@mail.hospital.co.uk"}


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("tldextract's global extractor was used")


@pytest.fixture
def global_extractor_refused(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    monkeypatch.setattr(tldextract, "extract", _refuse)
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", _refuse)
    return _refuse


def _emails(results: list[Any]) -> set[str]:
    return {TEXT[r.start : r.end] for r in results if r.entity_type == "EMAIL_ADDRESS"}


def test_presidio_alone_would_use_the_global_extractor(global_extractor_refused: object) -> None:
    with pytest.raises(AssertionError, match="global extractor"):
        EmailRecognizer().analyze(TEXT, ["EMAIL_ADDRESS"])


def test_emails_are_validated_offline(global_extractor_refused: object) -> None:
    results = OfflineEmailRecognizer().analyze(TEXT, ["EMAIL_ADDRESS"])
    assert _emails(results) == VALID  # the made-up top-level domain is rejected
    assert {r.score for r in results} == {1.0}
    assert {r.recognition_metadata["recognizer_name"] for r in results} == {"EmailRecognizer"}


def test_the_detector_uses_only_the_offline_recognizer(global_extractor_refused: object) -> None:
    email = [r for r in default_recognizers() if "EMAIL_ADDRESS" in r.supported_entities]
    assert len(email) == 1 and isinstance(email[0], OfflineEmailRecognizer)
    assert email[0].name == "EmailRecognizer"  # names order results and label detections
    found = {(TEXT[d.start : d.end], d.entity_type) for d in PIIDetector().analyze(TEXT)}
    assert {(e, "EMAIL_ADDRESS") for e in VALID} <= found
    assert not any("invalidtld" in span for span, _ in found)
    assert tldextract.extract is global_extractor_refused  # nothing patched it back
