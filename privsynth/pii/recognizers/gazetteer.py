"""Small general-knowledge word lists shared by the recognizers and the filters.

* :data:`COUNTRIES` -- the world's countries and a few widely used alternative
  names, written for privsynth from general knowledge (public facts, no source
  list copied); a country is a location, even though Safe Harbor keeps it.
* :data:`DOSE_UNITS` -- units written after a dose or a measurement, so numbers
  before them ("1/2 1000 mg", "in 2000 mL", "May 5 units") are not dates.
* :func:`english_words` -- common English words (nouns, verbs, adjectives,
  adverbs), taken from the WordNet word index that spaCy's English pipelines ship
  for their rule-based lemmatizer (WordNet licence, BSD-style). It tells
  everyday and clinical words ("Bowel", "Ultrasound", "Trace") from proper names
  when a model labels a capitalised word as a person or an organisation.

Everything is built once per process.
"""

from __future__ import annotations

import functools
import glob
import os
from typing import Final

from privsynth.pii.recognizers._base import words

#: a unit after a dose or measurement, as a regex fragment (match case-insensitively)
DOSE_UNITS: Final = r"(?:mg|mcg|g|gm|kg|ml|cc|l|units?|kcal|cal|%|tabs?|caps?|puffs?|drops?)(?!\w)"

# Sovereign states and widely recognised territories, in their usual English
# short forms, plus common alternative names. Multi-word names keep their case.
#: month and weekday names, in calendar order (Monday first, as ``date.weekday()``)
MONTHS: Final[tuple[str, ...]] = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
WEEKDAYS: Final[tuple[str, ...]] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
#: every written form of a month or weekday name: full, three letters, "sept", "tues", "thur(s)"
MONTH_AND_DAY_WORDS: Final[frozenset[str]] = frozenset(
    [
        *MONTHS,
        *WEEKDAYS,
        *(name[:3] for name in (*MONTHS, *WEEKDAYS)),
        "sept",
        "tues",
        "thur",
        "thurs",
    ]
)

COUNTRIES: Final[tuple[str, ...]] = (
    "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Antigua and Barbuda",
    "Argentina", "Armenia", "Australia", "Austria", "Azerbaijan", "Bahamas", "Bahrain",
    "Bangladesh", "Barbados", "Belarus", "Belgium", "Belize", "Benin", "Bhutan", "Bolivia",
    "Bosnia and Herzegovina", "Bosnia", "Botswana", "Brazil", "Brunei", "Bulgaria",
    "Burkina Faso", "Burundi", "Cambodia", "Cameroon", "Canada", "Cape Verde",
    "Central African Republic", "Chile", "China", "Colombia", "Comoros", "Congo",
    "Costa Rica", "Croatia", "Cuba", "Cyprus", "Czechia", "Czech Republic", "Denmark",
    "Djibouti", "Dominica", "Dominican Republic", "East Timor", "Ecuador", "Egypt",
    "El Salvador", "Equatorial Guinea", "Eritrea", "Estonia", "Eswatini", "Ethiopia", "Fiji",
    "Finland", "France", "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Greece", "Grenada",
    "Guatemala", "Guinea-Bissau", "Guyana", "Haiti", "Honduras", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Ivory Coast", "Jamaica", "Japan",
    "Kazakhstan", "Kenya", "Kiribati", "Kosovo", "Kuwait", "Kyrgyzstan", "Laos", "Latvia",
    "Lebanon", "Lesotho", "Liberia", "Libya", "Liechtenstein", "Lithuania", "Luxembourg",
    "Madagascar", "Malawi", "Malaysia", "Maldives", "Malta", "Marshall Islands", "Mauritania",
    "Mauritius", "Mexico", "Micronesia", "Moldova", "Monaco", "Mongolia", "Montenegro",
    "Morocco", "Mozambique", "Myanmar", "Burma", "Namibia", "Nauru", "Nepal", "Netherlands",
    "New Zealand", "Nicaragua", "Nigeria", "North Korea", "North Macedonia", "Macedonia",
    "Norway", "Oman", "Pakistan", "Palau", "Palestine", "Panama", "Papua New Guinea",
    "Paraguay", "Peru", "Philippines", "Poland", "Portugal", "Qatar", "Romania", "Russia",
    "Russian Federation", "Rwanda", "Saint Kitts and Nevis", "Saint Lucia",
    "Saint Vincent and the Grenadines", "Samoa", "San Marino", "Sao Tome and Principe",
    "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Sierra Leone", "Singapore", "Slovakia",
    "Slovenia", "Solomon Islands", "Somalia", "South Africa", "South Korea", "Korea",
    "South Sudan", "Spain", "Sri Lanka", "Sudan", "Suriname", "Sweden", "Switzerland", "Syria",
    "Taiwan", "Tajikistan", "Tanzania", "Thailand", "Togo", "Tonga", "Trinidad and Tobago",
    "Tunisia", "Turkmenistan", "Tuvalu", "Uganda", "Ukraine", "United Arab Emirates",
    "United Kingdom", "Great Britain", "Britain", "England", "Scotland", "Wales",
    "Northern Ireland", "United States", "United States of America", "USA", "U.S.A.",
    "Uruguay", "Uzbekistan", "Vanuatu", "Vatican City", "Venezuela", "Vietnam", "Viet Nam",
    "Yemen", "Zambia", "Zimbabwe", "Greenland", "Faroe Islands", "Hong Kong", "Macau",
    "Puerto Rico", "Bermuda", "Gibraltar", "Aruba", "Curacao", "Curaçao", "Guadeloupe",
    "Martinique", "Reunion", "Réunion", "New Caledonia", "French Polynesia",
)  # fmt: skip

#: country names that are also everyday words, names or US states: only reported
#: where an address or a preposition of place puts them in context
AMBIGUOUS_COUNTRIES: Final[frozenset[str]] = frozenset(
    words("Chad Jordan Turkey Guinea Niger Mali Georgia Togo Peru Cuba Oman Samoa Korea Wales")
)

#: unambiguous country names, casefolded
COUNTRY_KEYS: Final[frozenset[str]] = frozenset(
    c.casefold() for c in COUNTRIES if c not in AMBIGUOUS_COUNTRIES
)


def is_country(text: str) -> bool:
    """Whether ``text`` (any case, single spaces) is an unambiguous country name."""
    return " ".join(text.split()).casefold() in COUNTRY_KEYS


def _wordnet_index() -> frozenset[str]:
    """WordNet lemmas from the lemmatizer data of the installed default spaCy model."""
    from privsynth.pii.nlp import DEFAULT_MODEL

    try:
        import spacy.util
        from spacy.lookups import Lookups

        root = str(spacy.util.get_package_path(DEFAULT_MODEL))
        found = glob.glob(os.path.join(root, "*", "lemmatizer", "lookups"))
        found += glob.glob(os.path.join(root, "lemmatizer", "lookups"))
        if not found:
            return frozenset()
        index = Lookups().from_disk(found[0]).get_table("lemma_index")
        out: set[str] = set()
        for part in ("noun", "verb", "adj", "adv"):
            out.update(w for w in index.get(part, ()) if "_" not in w)
        return frozenset(out)
    except (ImportError, OSError, KeyError, ValueError):
        return frozenset()


@functools.cache
def english_words() -> frozenset[str]:
    """Lower-case common English words (see the module docstring); empty when the
    model package carries no lemmatizer data."""
    return _wordnet_index()


def is_english_word(word: str) -> bool:
    """Whether ``word`` (or its singular, "Cultures" -> "culture") is a common word."""
    key = word.strip(".,;:'’\"()").lower()
    vocabulary = english_words()
    if key in vocabulary:
        return True
    if key.endswith("es") and key[:-2] in vocabulary:
        return True  # "Boxes"; not "Gladys" -> "glad"
    return key.endswith("s") and key[:-1] in vocabulary
