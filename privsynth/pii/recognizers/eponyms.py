"""Medical eponyms: surnames that name a disease, a sign, a device or a score.

Clinical notes are full of them ("Parkinson's disease", "Foley catheter", "Gleason
score 7", "negative Homans sign") and spaCy's small model labels most of them as
people, places or organisations. Scrubbing them destroys clinical meaning and
reveals nothing about anyone, so a name-like span is an eponym, not PII, when

* it is a known eponym pair ("Mallory-Weiss", "JACKSON PRATT"), or
* it is followed, possessive or not, by a word that eponyms qualify ("disease",
  "sign", "catheter", "score": :data:`EPONYM_NOUNS`), or
* it is one of the eponyms used on their own (:data:`STANDALONE_EPONYMS`: "Foley",
  "Apgar", "Valsalva") and no title precedes it ("Dr. Foley" is a person).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from privsynth.pii.recognizers._base import words
from privsynth.pii.recognizers.gazetteer import is_english_word


def _key(word: str) -> str:
    """Casefolded, accent-free, without a possessive ("Crohn's" -> "crohn")."""
    word = re.sub(r"['’]s?$", "", word.strip(".,;:()"))
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _hyphen_pair(text: str) -> tuple[str, str]:
    """("jackson", "pratt") from "jackson-pratt"."""
    first, second = text.split("-")
    return first, second


#: eponym pairs written like "first name + surname": a drain, a tear, a murmur, a
#: syndrome or a method, not a person ("JACKSON PRATT DRAIN", "Kaplan-Meier")
EPONYM_PAIRS: Final = frozenset(
    _hyphen_pair(pair)
    for pair in words(
        """
        jackson-pratt mallory-weiss austin-flint arnold-chiari dandy-walker tommy-john
        lou-gehrig charcot-marie marie-tooth stevens-johnson bence-jones russell-silver
        prader-willi wolff-parkinson parkinson-white graham-steell cheyne-stokes adams-stokes
        brown-sequard guillain-barre ehlers-danlos osgood-schlatter legg-calve legg-perthes
        jacob-creutzfeldt creutzfeldt-jakob hand-schuller sturge-weber klippel-feil
        peutz-jeghers dubin-johnson crigler-najjar wernicke-korsakoff zollinger-ellison
        mallory-denk lambert-eaton henoch-schonlein kasabach-merritt swan-ganz
        kaplan-meier mann-whitney bland-altman kolmogorov-smirnov hardy-weinberg
        michaelis-menten frank-starling wolff-chaikoff bazett-fridericia cockcroft-gault
        child-pugh grey-turner
        """
    )
)

#: words an eponym qualifies: "Crohn's disease", "Murphy sign", "Braden scale"
EPONYM_NOUNS: Final = frozenset(
    words(
        """
        disease diseases syndrome syndromes sign signs score scores scale scales criteria
        criterion test tests maneuver manoeuvre maneuvers position procedure operation
        repair incision fracture fractures catheter catheters tube drain line shunt
        stain staining smear monitor monitoring palsy lymphoma sarcoma tumor tumour
        carcinoma cyst cysts nodes node nodule nodules dementia esophagus thyroiditis
        disorder anemia anaemia ulcer ulcers classification stage staging grade grading
        phenomenon reflex triad hernia contracture contractures murmur fascia ligament
        duct ducts canal gland glands pouch sphincter membrane equation formula technique
        splint traction
        """
    )
)

#: eponyms that stand alone in notes ("Foley in place", "Apgars 8/9", "Valsalva")
STANDALONE_EPONYMS: Final = frozenset(
    words(
        """
        foley hickman groshong apgar apgars doppler dopplers holter trendelenburg valsalva
        babinski romberg mallampati karnofsky gleason heimlich snellen papanicolaou pap
        kussmaul chvostek trousseau kernig brudzinski lachman mcmurray tinel phalen spurling
        finkelstein mcburney rovsing allis kocher pfannenstiel bovie metzenbaum
        """
    )
)

#: words between an eponym and its noun: "Glasgow coma scale", "Morse fall scale"
_QUALIFIERS: Final = frozenset(words("coma fall risk severity outcome triage"))
#: instruments named after a person or a place, with any one word between:
#: "Epworth Sleepiness Scale", "Stanford Sleepiness Scale", "Beck Depression Inventory"
_INSTRUMENTS: Final = frozenset(words("scale scales score scores criteria inventory questionnaire"))
#: nouns that are also verbs after a person's name ("have Mary sign the form")
_VERB_LIKE: Final = frozenset(words("sign signs test tests monitor"))

_TITLE_BEFORE = re.compile(r"(?i)\b(?:dr|mr|mrs|ms|prof|doctor|nurse)\.?[ \t]+\Z")
_NEXT_WORDS = re.compile(r"(?:['’]s?)?[ \t]+([A-Za-z]+)(?:[ \t]+([A-Za-z]+))?")


def is_eponym_pair(first: str, second: str) -> bool:
    """Whether "first second" (or "first-second") is a medical eponym."""
    return (_key(first), _key(second)) in EPONYM_PAIRS


def is_clinical_eponym(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is used as a medical eponym (module docstring)."""
    keys = [_key(w) for w in re.split(r"[ \t-]+", text[start:end].strip()) if w]
    if not keys or len(keys) > 4:
        return False
    if len(keys) >= 2 and (is_eponym_pair(keys[-2], keys[-1]) or _ends_with_noun(keys)):
        return True
    if _TITLE_BEFORE.search(text, max(0, start - 12), start):
        return False
    if len(keys) == 1 and keys[0] in STANDALONE_EPONYMS:
        return True
    noun = _qualified_noun(text, end)
    if noun is None:
        return False
    if noun in _VERB_LIKE and len(keys) == 1 and text[end : end + 1] not in ("'", "’"):
        from privsynth.pii.recognizers._lexicon import name_lexicon

        return not name_lexicon().is_first(keys[0])  # "have Mary sign"
    return True


def _ends_with_noun(keys: list[str]) -> bool:
    """A span that took the noun in: "Hashimoto thyroiditis", "Epworth Sleepiness
    Scale", "Beck Depression Inventory" (but "Walk Score" is a firm)."""
    last = keys[-1]
    if last in _VERB_LIKE or last not in EPONYM_NOUNS | _INSTRUMENTS:
        return False
    if last in _INSTRUMENTS:
        return len(keys) >= 3 or not is_english_word(keys[0])
    return not any(is_english_word(k) for k in keys[:-1])


def _qualified_noun(text: str, end: int) -> str | None:
    """The eponym noun right after ``end`` ("'s disease", " coma scale"), if any."""
    following = _NEXT_WORDS.match(text, end)
    if following is None:
        return None
    first, second = (w.lower() if w else "" for w in following.groups())
    if first in EPONYM_NOUNS:
        return first
    if second in _INSTRUMENTS or (first in _QUALIFIERS and second in EPONYM_NOUNS):
        return second
    return None
