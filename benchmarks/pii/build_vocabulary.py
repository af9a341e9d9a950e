"""Build ``privsynth/pii/data/clinical_vocabulary.txt`` from public transcriptions.

The high-recall scrubber keeps a word only when it is known to be safe. English comes
from WordNet (shipped with spaCy); clinical words come from here: every word that
occurs in at least ``--min-documents`` distinct mtsamples transcriptions (CC0; the
texts use placeholder names such as "ABC" or "Dr. X", so frequent words there are
medical vocabulary, not names). Words in the name lexicon are left out unless they
are also common English words. Nothing is taken from the notes the scrubber is
measured on.

Usage (from the repository root)::

    python benchmarks/pii/build_vocabulary.py \\
        --source ../shared/data/mtsamples/mtsamples.csv.gz --min-documents 3
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

import pandas as pd

from privsynth.pii.recognizers._lexicon import name_lexicon

TARGET = Path(__file__).resolve().parents[2] / "privsynth" / "pii" / "data"
HEADER = (
    "# Words of 2+ letters written in lower case (or as short capitals) in >= {n} distinct\n"
    "# mtsamples transcriptions (CC0, kaggle.com/tboyle10/medicaltranscriptions via clinspacy),\n"
    "# minus name-lexicon words.\n"
    "# Built by benchmarks/pii/build_vocabulary.py; one lower-case word per line.\n"
)


def document_frequency(texts: pd.Series) -> collections.Counter[str]:
    """In how many transcriptions each word is written in lower case, or in capitals
    when short (an abbreviation). Words only ever written capitalised ("Baltimore",
    "Denver" in "Denver Developmental") are proper nouns and are not counted."""
    counts: collections.Counter[str] = collections.Counter()
    for text in texts.dropna().drop_duplicates():
        words = re.findall(r"[A-Za-z]{2,}", str(text))
        counts.update({w.lower() for w in words if w.islower() or (w.isupper() and len(w) <= 6)})
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--min-documents", type=int, default=3)
    args = parser.parse_args()
    frame = pd.read_csv(args.source)
    counts = document_frequency(frame["transcription"])
    lexicon = name_lexicon()
    words = sorted(
        w
        for w, c in counts.items()
        if c >= args.min_documents
        and not ((lexicon.is_first(w) or lexicon.is_last(w)) and not lexicon.is_common(w))
    )
    out = TARGET / "clinical_vocabulary.txt"
    out.write_text(HEADER.format(n=args.min_documents) + "\n".join(words) + "\n", "utf-8")
    print(f"wrote {len(words)} words to {out}")


if __name__ == "__main__":
    main()
