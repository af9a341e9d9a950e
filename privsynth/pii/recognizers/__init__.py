"""privsynth's own Presidio recognizers for health and US identifiers.

:func:`health_recognizers` returns one instance of each, ready to add to a
Presidio ``RecognizerRegistry``; they complement Presidio's predefined
recognizers and spaCy's NER with what clinical notes need: NPI and DEA numbers
(checksummed), record, plan and account numbers (by label), ZIP codes, street
addresses and cities before a state, ages (with the value for Safe Harbor),
clinical dates, facility names, and person names in titles, signatures, labels
and ALL-CAPS text.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer

from privsynth.pii.recognizers._base import DIGIT, gated
from privsynth.pii.recognizers.address import AddressBlockRecognizer
from privsynth.pii.recognizers.clinical import (
    AGE_LOWER_BOUND_KEY,
    AGE_METADATA_KEY,
    AgeRecognizer,
    ClinicalDateRecognizer,
    FacilityRecognizer,
    parse_age,
)
from privsynth.pii.recognizers.contextual import (
    CardNumberRecognizer,
    CompanyRecognizer,
    ContextPhoneRecognizer,
    EventYearRecognizer,
)
from privsynth.pii.recognizers.descriptors import NrpRecognizer, OccupationRecognizer
from privsynth.pii.recognizers.identifiers import (
    AccountNumberRecognizer,
    DeaNumberRecognizer,
    HealthPlanNumberRecognizer,
    MedicalRecordNumberRecognizer,
    NpiRecognizer,
    dea_check_digit,
    dea_valid,
    npi_check_digit,
    npi_valid,
)
from privsynth.pii.recognizers.lists import deny_list_recognizer, is_allowed
from privsynth.pii.recognizers.location import (
    StreetAddressRecognizer,
    UsCityRecognizer,
    UsZipCodeRecognizer,
)
from privsynth.pii.recognizers.names import NameLexiconRecognizer, TitledPersonRecognizer
from privsynth.pii.recognizers.persons import ContextualNameRecognizer
from privsynth.pii.recognizers.places import PlaceRecognizer

__all__ = [
    "AGE_LOWER_BOUND_KEY",
    "AGE_METADATA_KEY",
    "AccountNumberRecognizer",
    "AddressBlockRecognizer",
    "AgeRecognizer",
    "CardNumberRecognizer",
    "ClinicalDateRecognizer",
    "CompanyRecognizer",
    "ContextPhoneRecognizer",
    "ContextualNameRecognizer",
    "DeaNumberRecognizer",
    "EventYearRecognizer",
    "FacilityRecognizer",
    "HealthPlanNumberRecognizer",
    "MedicalRecordNumberRecognizer",
    "NameLexiconRecognizer",
    "NpiRecognizer",
    "NrpRecognizer",
    "OccupationRecognizer",
    "PlaceRecognizer",
    "StreetAddressRecognizer",
    "TitledPersonRecognizer",
    "UsCityRecognizer",
    "UsZipCodeRecognizer",
    "dea_check_digit",
    "dea_valid",
    "default_recognizers",
    "deny_list_recognizer",
    "health_recognizers",
    "is_allowed",
    "npi_check_digit",
    "npi_valid",
    "parse_age",
]


AT = re.compile("@")
IP_CHAR = re.compile(r"\d|:")  # IPv4 digits; IPv6 may be letters and colons


def health_recognizers(supported_language: str = "en") -> list[EntityRecognizer]:
    """One fresh instance of each privsynth recognizer.

    Instances are cheap: compiled patterns and the name lexicon are shared
    process-wide, so calling this per analyzer costs no recompilation.
    """
    return [
        NpiRecognizer(supported_language),
        DeaNumberRecognizer(supported_language),
        MedicalRecordNumberRecognizer(supported_language),
        HealthPlanNumberRecognizer(supported_language),
        AccountNumberRecognizer(supported_language),
        UsZipCodeRecognizer(supported_language),
        StreetAddressRecognizer(supported_language),
        AddressBlockRecognizer(supported_language),
        PlaceRecognizer(supported_language),
        UsCityRecognizer(supported_language),
        AgeRecognizer(supported_language),
        ClinicalDateRecognizer(supported_language),
        FacilityRecognizer(supported_language),
        TitledPersonRecognizer(supported_language),
        NameLexiconRecognizer(supported_language),
    ]


def default_recognizers() -> list[EntityRecognizer]:
    """Everything the default detector runs: spaCy NER, the Presidio recognizers that
    are precise enough on their own (e-mails validated offline, without touching
    tldextract's global extractor), a fast phone recognizer, and ours."""
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        SpacyRecognizer,
        UrlRecognizer,
        UsSsnRecognizer,
    )

    from privsynth.pii.phone import PhoneNumberRecognizer
    from privsynth.pii.recognizers.emails import OfflineEmailRecognizer

    ner = _plausible_only(SpacyRecognizer)(
        supported_entities=["PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"]
    )
    email = gated(OfflineEmailRecognizer, AT)()
    presidio = [email, UrlRecognizer(), gated(IpRecognizer, IP_CHAR)(),
                gated(UsSsnRecognizer, DIGIT)(), gated(CreditCardRecognizer, DIGIT)(),
                gated(IbanRecognizer, DIGIT)()]  # fmt: skip
    general = [CardNumberRecognizer(), ContextPhoneRecognizer(), EventYearRecognizer(),
               CompanyRecognizer(), ContextualNameRecognizer(), OccupationRecognizer(),
               NrpRecognizer()]  # fmt: skip
    return [ner, *presidio, PhoneNumberRecognizer(), *general, *health_recognizers()]


def _plausible_only(spacy_recognizer: type[Any]) -> type[Any]:
    """spaCy's recognizer with the precision filters applied to its own results, before
    Presidio removes results contained in others: otherwise a span the filters reject
    ("lena andersson" in lower case, "Ana Ruiz Phone") first hides the contained result
    of a specific recognizer, then is dropped itself, and the name is lost."""
    from privsynth.pii.filters import MODEL_RECOGNIZER, is_plausible
    from privsynth.pii.spans import Detection

    def analyze(self: Any, text: str, entities: list[str], nlp_artifacts: Any = None) -> Any:
        found = spacy_recognizer.analyze(self, text, entities, nlp_artifacts)
        return [r for r in found if r.end > r.start and is_plausible(text, _model(r))]

    def _model(found: Any) -> Detection:
        return Detection(found.start, found.end, found.entity_type, found.score, MODEL_RECOGNIZER)

    return type(spacy_recognizer.__name__, (spacy_recognizer,), {"analyze": analyze})
