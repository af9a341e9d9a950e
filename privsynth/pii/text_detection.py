"""Free-text PII detection in one of two modes, shared by the scrubber and the residual scan.

``precise`` reports what the detector can name (Presidio, spaCy's NER, our recognizers);
``high_recall`` adds every word not known to be safe and the shapes PHI takes in clinical
notes (:mod:`privsynth.pii.high_recall`). High recall needs no statistical NER: on real
nursing notes the model added no recall beyond its rules at a third of the speed, so it
is switched off unless the detector configuration asks for it (``ner: true``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Final

from privsynth.errors import ConfigurationError
from privsynth.pii.engine import DetectorConfig, PIIDetector
from privsynth.pii.high_recall import high_recall_detections
from privsynth.pii.spans import Detection

#: ``precise``: what the detector names; ``high_recall``: also every word not known to be
#: safe, for HIPAA scrubbing of clinical notes
MODES: Final = ("precise", "high_recall")


def check_mode(mode: str) -> None:
    """Refuse an unknown mode with the list of known ones."""
    if mode not in MODES:
        raise ConfigurationError(
            f"unknown mode {mode!r}", hint=f"choose one of: {', '.join(MODES)}"
        )


class TextDetector:
    """PII spans in free text, in ``precise`` or ``high_recall`` mode."""

    def __init__(
        self,
        mode: str = "precise",
        config: DetectorConfig | None = None,
        shared: PIIDetector | None = None,
    ) -> None:
        """``shared``: a detector to reuse (its models and worker processes) when this
        mode needs the same configuration."""
        check_mode(mode)
        config = config or (shared.config if shared else DetectorConfig())
        if config.ner is None and mode == "high_recall":
            config = replace(config, ner=False)
        self.mode = mode
        self.detector = shared if shared and shared.config == config else PIIDetector(config)

    def iter_analyze(self, texts: Iterable[str]) -> Iterator[list[Detection]]:
        """The spans of each text, streaming, in order."""
        for_rules, for_detector = itertools.tee(texts)
        for text, found in zip(for_rules, self.detector.iter_analyze(for_detector), strict=True):
            yield high_recall_detections(text, found) if self.mode == "high_recall" else found

    def analyze_batch(self, texts: Sequence[str]) -> list[list[Detection]]:
        """The spans of each text."""
        return list(self.iter_analyze(texts))
