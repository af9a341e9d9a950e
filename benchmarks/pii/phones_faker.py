"""Recall on telephone numbers in other countries' formats (Faker, 43 locales).

An independent check of the phone recognizer, generated apart from the labelled sets:
30 ``Faker(locale).phone_number()`` values per locale (seeded), each inside a sentence.
A number counts as found when detections cover >= 50% of its characters. Compares
privsynth's ``PhoneNumberRecognizer`` (default threshold 0.4), Presidio's own
``PhoneRecognizer``, and the whole privsynth detector (any entity type).

    python benchmarks/pii/phones_faker.py
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate import offline_presidio

LOCALES = (
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "it_IT",
    "es_ES",
    "nl_NL",
    "pt_BR",
    "en_AU",
    "en_CA",
    "pl_PL",
    "sv_SE",
    "da_DK",
    "fi_FI",
    "no_NO",
    "cs_CZ",
    "hu_HU",
    "pt_PT",
    "en_IN",
    "en_NZ",
    "ru_RU",
    "ja_JP",
    "zh_CN",
    "ko_KR",
    "tr_TR",
    "el_GR",
    "ro_RO",
    "he_IL",
    "uk_UA",
    "de_CH",
    "fr_CH",
    "de_AT",
    "nl_BE",
    "fr_CA",
    "es_MX",
    "is_IS",
    "lv_LV",
    "lt_LT",
    "et_EE",
    "sk_SK",
    "sl_SI",
    "hr_HR",
    "bg_BG",
)
TEMPLATES = ("Call me at {p} tomorrow.", "My number is {p}.", "{p}", "Phone: {p}",
             "You can reach her on {p} after 5pm.")  # fmt: skip
PER_LOCALE = 30


def sentences() -> list[tuple[str, str, int, int]]:
    """(locale, text, start, end) of each embedded number."""
    from faker import Faker

    rng = random.Random(7)
    items = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(11)
        for _ in range(PER_LOCALE):
            number = fake.phone_number()
            text = rng.choice(TEMPLATES).format(p=number)
            start = text.index(number)
            items.append((locale, text, start, start + len(number)))
    return items


def covered(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    chars: set[int] = set()
    for s, e in spans:
        chars.update(range(max(start, s), min(end, e)))
    return len(chars) >= 0.5 * (end - start)


def main() -> dict[str, Any]:
    offline_presidio()
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from privsynth.pii.engine import PIIDetector
    from privsynth.pii.phone import PhoneNumberRecognizer

    items = sentences()
    ours, presidio = PhoneNumberRecognizer(), PhoneRecognizer()
    detected = PIIDetector().analyze_batch([text for _, text, _, _ in items])
    found = {
        "privsynth phone recognizer": 0,
        "presidio PhoneRecognizer": 0,
        "privsynth detector": 0,
    }
    for (_, text, start, end), detections in zip(items, detected, strict=True):
        mine = [(r.start, r.end) for r in ours.analyze(text, ["PHONE_NUMBER"]) if r.score >= 0.4]
        theirs = [(r.start, r.end) for r in presidio.analyze(text, ["PHONE_NUMBER"])]
        found["privsynth phone recognizer"] += covered(mine, start, end)
        found["presidio PhoneRecognizer"] += covered(theirs, start, end)
        found["privsynth detector"] += covered([(d.start, d.end) for d in detections], start, end)
    recall = {name: count / len(items) for name, count in found.items()}
    for name, value in recall.items():
        print(f"{name:28s} recall {value:.3f}  ({len(items)} numbers)")
    return recall


if __name__ == "__main__":
    main()
