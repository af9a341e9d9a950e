"""Build ``tests/benchmarks/clinical_phi/notes.jsonl``: real clinical text with labelled PHI.

Steps (see ``tests/benchmarks/clinical_phi/SOURCE.md``):

1. ``clinical_source.source_notes``: a seeded, specialty-spread sample of distinct
   mtsamples transcriptions, line breaks restored, cut at a sentence boundary.
2. ``annotations.json`` (written by hand, by reading every note): the PHI already in
   the text (``phi``, labelled ``annotated``) and the de-identification placeholders
   (``Dr. X``, ``ABCD General Hospital``...) with a template of surrogate slots that
   replaces each (``replace``, labelled ``inserted``).
3. Header and footer lines drawn from varied EHR templates, filled with surrogates
   (``inserted``), and about 40% of the notes rendered in upper case.

Every span is checked (``text[start:end]`` is the PHI string) before anything is written.
Run: ``python benchmarks/pii/build_clinical_set.py [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import surrogates as sur
from clinical_source import SourceNote, source_notes

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "benchmarks" / "clinical_phi"
SEED = 20240611
N_NOTES = 120
MAX_CHARS = 1500
UPPER_SHARE = 0.4
HEADER_SHARE = 0.85
FOOTER_SHARE = 0.7
OLD_AGE_SHARE = 0.3
"""Share of adult notes with no stated age that get an over-89 age in the header."""

SLOT = re.compile(r"\{([A-Z_]+)(?::([a-z0-9_]+))?\}")

PERSON_KINDS = frozenset({"NAME", "NAME_MI", "LASTFIRST", "FIRST", "SURNAME"})
PLACE_KINDS = {"STREET": "STREET_ADDRESS", "CITY": "LOCATION", "ZIP": "US_ZIP_CODE"}
ID_KINDS = {
    "MRN": ("MEDICAL_RECORD_NUMBER", sur.mrn),
    "ACCOUNT": ("ACCOUNT_NUMBER", sur.account),
    "PLAN": ("HEALTH_PLAN_NUMBER", sur.plan_number),
    "SSN": ("US_SSN", sur.ssn),
    "NPI": ("NPI", sur.npi),
}

HEADERS: tuple[str, ...] = (
    "{FACILITY:fac}\n{STREET:fac}\n{CITY:fac}, {STATE:fac} {ZIP:fac}\nPHONE: {PHONE:fac}\n\n"
    "PATIENT NAME: {LASTFIRST:pt}\nMRN: {MRN:pt}\nDOB: {DATE:dob}\n"
    "DATE OF ADMISSION: {DATE:adm}\nATTENDING PHYSICIAN: Dr. {NAME:att}, MD\n",
    "PATIENT: {NAME:pt}    MR#: {MRN:pt}\nDATE OF SERVICE: {DATE:adm}\n"
    "PROVIDER: {NAME_MI:att}, MD\nREFERRING PHYSICIAN: Dr. {SURNAME:ref}\n",
    "{FACILITY:fac}\nPATIENT NAME: {NAME:pt}\n"
    "ADDRESS: {STREET:pt}, {CITY:pt}, {STATE:pt} {ZIP:pt}\nPHONE: {PHONE:pt}\n"
    "MEMBER ID: {PLAN:pt}     ACCT #: {ACCOUNT:pt}\nSSN: {SSN:pt}\n"
    "DATE OF ADMISSION: {DATE:adm}\n",
    "PT NAME: {LASTFIRST:pt}   DOB: {DATE:dob}\nHOSPITAL #: {MRN:pt}\n"
    "ADMITTED: {DATE:adm}   ATTENDING: {NAME:att}, MD\n{FACILITY:fac}, {CITY:fac}, {STATE:fac}\n",
    "Patient: {LASTFIRST:pt} | MRN: {MRN:pt} | Acct: {ACCOUNT:pt}\n"
    "Encounter date: {DATE:adm} | Insurance member ID: {PLAN:pt}\n",
)
"""Header templates: facesheet, clinic note, registration, discharge, EHR banner."""

AGE_HEADERS: tuple[str, ...] = (
    "Name: {LASTFIRST:pt}   DOB: {DATE:dob}   Age: {AGE_NUM:pt}   Sex: {SEX:pt}\n"
    "Acct #: {ACCOUNT:pt}   Med Rec #: {MRN:pt}\nVisit date: {DATE:adm}   "
    "Location: {FACILITY:fac}\n",
    "{FACILITY:fac}  |  {CITY:fac}, {STATE:fac}\n"
    "{NAME_MI:pt} (MRN {MRN:pt}), {AGE_YO:pt} {SEX:pt}\n"
    "Seen {DATE:adm} by {NAME:att}, MD\n",
)
"""Header templates that state the patient's age (used only when the age is known)."""

LETTERHEAD = (
    "{FACILITY:fac}\n{STREET:fac}\n{CITY:fac}, {STATE:fac} {ZIP:fac}\n"
    "Tel {PHONE:fac}   Fax {PHONE:fax}\n\n{DATE_LONG:adm}\n"
)
"""Header for letters: a practice letterhead and the letter date (the body names the patient)."""

FOOTERS: tuple[str, ...] = (
    "{NAME:att}, MD\nNPI: {NPI:att}\nD: {DATE:dict}  T: {DATE:trans}\ncc: Dr. {SURNAME:ref}\n",
    "Electronically signed by {NAME_MI:att}, MD on {DATE:dict} at {TIME}\n",
    "Please call our office at {PHONE:fac} with any questions.\n"
    "cc: Dr. {SURNAME:ref}, {FACILITY:ref}\n",
    "Dictated by: Dr. {NAME:att}\nTranscribed: {DATE:trans}\n"
    "Patient contact: {PHONE:pt}, {EMAIL:pt}\n",
    "______________________________\n{NAME:att}, MD\n"
    "{FACILITY:fac}, {STREET:fac}, {CITY:fac}, {STATE:fac} {ZIP:fac}\n",
)
"""Footer templates: signature blocks, dictation lines, copies, contact lines."""

_FEMALE = re.compile(r"\b(?:she|her|hers|herself|woman|female|girl|lady|Ms|Mrs)\b", re.I)
_MALE = re.compile(r"\b(?:he|him|his|himself|man|male|boy|gentleman|Mr)\b", re.I)
_AGE_YEARS = re.compile(r"\b(\d{1,3})[- ]?(?:year|yr)s?[- ]old\b|\b(\d{1,3}) ?(?:yo|y/o)\b", re.I)
_CHILD = re.compile(r"\b\d+[- ](?:day|week|month)s?[- ]old\b|\binfant\b|\bbaby\b", re.I)


@dataclass
class Segment:
    """A piece of the rendered note; ``entity_type`` set when the piece is PHI."""

    text: str
    entity_type: str | None = None
    source: str | None = None


@dataclass
class NoteSurrogates:
    """Surrogate values of one note, keyed so a repeated placeholder stays consistent.

    ``Dr. X`` three times in a note is one doctor; the patient (key ``pt``) has one
    name, address and age across header, body and footer.
    """

    rng: random.Random
    anchor: date
    patient_sex: str
    patient_first: str | None = None
    patient_age: int | None = None
    people: dict[str, sur.Person] = field(default_factory=dict)
    places: dict[str, sur.Place] = field(default_factory=dict)
    values: dict[tuple[str, str], str] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)

    def who(self, key: str) -> sur.Person:
        """The person behind ``key`` (drawn once; the patient keeps a pinned first name)."""
        if key not in self.people:
            sex = self.patient_sex if key == "pt" else None
            drawn = sur.person(self.rng, sex)
            if key == "pt" and self.patient_first:
                drawn = sur.Person(self.patient_first, drawn.middle, drawn.last, drawn.sex)
            self.people[key] = drawn
        return self.people[key]

    def where(self, key: str) -> sur.Place:
        """The city/state/ZIP behind ``key``."""
        if key not in self.places:
            self.places[key] = sur.place(self.rng)
        return self.places[key]

    def day(self, key: str) -> date:
        """Dates relative to the note's anchor so admission < dictation < transcription."""
        if key not in self.dates:
            offsets = {"adm": 0, "dict": self.rng.randint(0, 3)}
            if key == "dob":
                years = self.patient_age if self.patient_age is not None else 60
                self.dates[key] = self.anchor - timedelta(
                    days=365.25 * years + self.rng.randint(1, 360)
                )
            elif key == "trans":
                self.dates[key] = self.day("dict") + timedelta(days=self.rng.randint(0, 2))
            else:
                self.dates[key] = self.anchor + timedelta(
                    days=offsets.get(key, self.rng.randint(-40, 5))
                )
        return self.dates[key]

    def render(self, kind: str, key: str) -> tuple[str, str | None]:
        """Text and entity type of one slot; the same (kind, key) always renders the same."""
        if (kind, key) not in self.values:
            self.values[(kind, key)] = self._draw(kind, key)
        return self.values[(kind, key)], self._entity(kind, key)

    def _entity(self, kind: str, key: str) -> str | None:
        """Entity label of a slot; an age is PHI only when over 89 (Safe Harbor)."""
        if kind in PERSON_KINDS:
            return "PERSON"
        if kind in PLACE_KINDS:
            return PLACE_KINDS[kind]
        if kind in ID_KINDS:
            return ID_KINDS[kind][0]
        if kind.startswith("AGE"):
            return "AGE" if (self.patient_age or 0) > 89 else None
        labels = {
            "FACILITY": "FACILITY",
            "COMPANY": "FACILITY",
            "PHONE": "PHONE_NUMBER",
            "EMAIL": "EMAIL_ADDRESS",
            "DATE": "DATE_TIME",
            "DATE_LONG": "DATE_TIME",
        }
        return labels.get(kind)

    def _draw(self, kind: str, key: str) -> str:
        """Draw a fresh value for a slot kind."""
        if kind in PERSON_KINDS or kind in ("EMAIL", "SEX"):
            return self._person_text(kind, self.who(key))
        if kind in PLACE_KINDS or kind == "STATE":
            return self._place_text(kind, key)
        if kind in ID_KINDS:
            return ID_KINDS[kind][1](self.rng)
        return self._other_text(kind, key)

    def _person_text(self, kind: str, who: sur.Person) -> str:
        """Name formats: ``First Last``, ``First M. Last``, ``LAST, FIRST`` and parts."""
        formats = {
            "NAME": f"{who.first} {who.last}",
            "NAME_MI": f"{who.first} {who.middle[0]}. {who.last}",
            "LASTFIRST": self.rng.choice(
                (f"{who.last}, {who.first}", f"{who.last.upper()}, {who.first.upper()}")
            ),
            "FIRST": who.first,
            "SURNAME": who.last,
            "SEX": who.sex,
        }
        return formats[kind] if kind in formats else sur.email(self.rng, who)

    def _place_text(self, kind: str, key: str) -> str:
        """Street, city, state or ZIP of the place behind ``key``."""
        if kind == "STREET":
            return sur.street(self.rng)
        where = self.where(key)
        texts = {"CITY": where.city, "STATE": where.state, "ZIP": where.zip_code}
        return texts[kind]

    def _other_text(self, kind: str, key: str) -> str:
        """Facilities, employers, phones, dates, ages and times."""
        if kind == "FACILITY":
            return self.rng.choice(sur.FACILITIES)
        if kind == "COMPANY":
            return self.rng.choice(sur.EMPLOYERS)
        if kind == "PHONE":
            codes = self.places[key].area_codes if key in self.places else ()
            return sur.phone(self.rng, codes)
        if kind == "DATE":
            return sur.format_date(self.rng, self.day(key), with_year_only=key == "dob")
        if kind == "DATE_LONG":
            return sur.long_date(self.day(key))
        age = self.patient_age or 0
        ages = {"AGE_NUM": str(age), "AGE_YO": f"{age} yo", "AGE_HYPHEN": f"{age}-year-old"}
        if kind in ages:
            return ages[kind]
        if kind == "TIME":
            return f"{self.rng.randint(7, 18):02d}:{self.rng.randint(0, 59):02d}"
        raise ValueError(f"unknown slot kind {kind}")


def fill(template: str, values: NoteSurrogates, source: str) -> list[Segment]:
    """Split a template into literal text and rendered slots."""
    segments: list[Segment] = []
    position = 0
    for match in SLOT.finditer(template):
        segments.append(Segment(template[position : match.start()]))
        text, entity = values.render(match.group(1), match.group(2) or "_")
        segments.append(Segment(text, entity, source if entity else None))
        position = match.end()
    segments.append(Segment(template[position:]))
    return [segment for segment in segments if segment.text]


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of ``needle`` in ``text`` that do not cut a word at either end.

    ``Dr. X`` must not match inside ``Dr. XYZ``; occurrence indexes in the
    annotations count only these whole-word matches.
    """
    starts = []
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        cuts_left = start > 0 and text[start - 1].isalnum() and needle[0].isalnum()
        cuts_right = end < len(text) and text[end].isalnum() and needle[-1].isalnum()
        if not (cuts_left or cuts_right):
            starts.append(start)
        start = text.find(needle, start + 1)
    return starts


@dataclass(frozen=True)
class Edit:
    """A located annotation: annotated PHI (``entity_type``) or a placeholder (``template``)."""

    start: int
    end: int
    entity_type: str | None = None
    template: str | None = None


def locate(note: SourceNote, entry: dict[str, Any]) -> list[Edit]:
    """The body offsets an annotation entry refers to (all matches or the n-th)."""
    starts = occurrences(note.text, entry["text"])
    which = entry.get("n", 0)
    if which == "all":
        chosen = starts
    elif isinstance(which, int) and which < len(starts):
        chosen = [starts[which]]
    else:
        raise ValueError(f"note {note.note_id}: {entry['text']!r} #{which} not found")
    if not chosen:
        raise ValueError(f"note {note.note_id}: {entry['text']!r} not found")
    end = len(entry["text"])
    return [Edit(s, s + end, entry.get("type"), entry.get("with")) for s in chosen]


def body_segments(note: SourceNote, notes: dict[str, Any], values: NoteSurrogates) -> list[Segment]:
    """The note body with annotated PHI marked and placeholders replaced by surrogates."""
    edits = [edit for entry in notes.get("phi", []) for edit in locate(note, entry)]
    edits += [edit for entry in notes.get("replace", []) for edit in locate(note, entry)]
    edits.sort(key=lambda edit: edit.start)
    for left, right in itertools.pairwise(edits):
        if right.start < left.end:
            raise ValueError(f"note {note.note_id}: overlapping annotations at {right.start}")
    segments: list[Segment] = []
    position = 0
    for edit in edits:
        segments.append(Segment(note.text[position : edit.start]))
        if edit.template is not None:
            segments += fill(edit.template, values, "inserted")
        else:
            segments.append(
                Segment(note.text[edit.start : edit.end], edit.entity_type, "annotated")
            )
        position = edit.end
    segments.append(Segment(note.text[position:]))
    return [segment for segment in segments if segment.text]


def patient_sex(text: str, rng: random.Random) -> str:
    """F or M from pronoun counts (surrogate names should match the note's pronouns)."""
    female, male = len(_FEMALE.findall(text)), len(_MALE.findall(text))
    if female == male:
        return rng.choice("FM")
    return "F" if female > male else "M"


def patient_age(note: SourceNote, entry: dict[str, Any], rng: random.Random) -> int | None:
    """The patient's age in years, or None when the note gives no usable age.

    A placeholder that rewrites an age (``{AGE_HYPHEN:pt}``) makes the patient 90-99;
    otherwise the first stated age in years is used; adult notes with no age get an
    over-89 age with probability ``OLD_AGE_SHARE`` so headers can state it.
    """
    if any("{AGE" in item.get("with", "") for item in entry.get("replace", [])):
        return rng.randint(90, 99)
    stated = _AGE_YEARS.search(note.text)
    if stated:
        return int(stated.group(1) or stated.group(2))
    if not _CHILD.search(note.text) and rng.random() < OLD_AGE_SHARE:
        return rng.randint(90, 101)
    return None


def header_choices(age: int | None, rng: random.Random) -> tuple[str, ...]:
    """Header templates open to a note: age headers need a known age.

    An over-89 patient gets an age header most of the time, so that the set has
    enough AGE spans in the ``91 yo`` / ``Age: 93`` forms, not only in prose.
    """
    if age is None:
        return HEADERS
    if age > 89 and rng.random() < 0.6:
        return AGE_HEADERS
    return HEADERS + AGE_HEADERS


def frame_segments(
    note: SourceNote, values: NoteSurrogates, rng: random.Random
) -> tuple[list[Segment], list[Segment]]:
    """Header and footer segments from a randomly chosen template (or none)."""
    header: list[Segment] = []
    footer: list[Segment] = []
    if note.specialty == "Letters":
        header = fill(LETTERHEAD, values, "inserted")
    elif rng.random() < HEADER_SHARE:
        header = fill(rng.choice(header_choices(values.patient_age, rng)), values, "inserted")
    if rng.random() < FOOTER_SHARE:
        footer = fill(rng.choice(FOOTERS), values, "inserted")
    return header, footer


def build_note(
    note: SourceNote, entry: dict[str, Any], seed: int, upper: bool, stats: Counter[str]
) -> dict[str, Any]:
    """Render one note and its spans; raises if any span does not match its text.

    ``stats`` counts notes with a header and with a footer, for SOURCE.md.
    """
    rng = random.Random(f"{seed}:{note.note_id}")
    pinned = entry.get("patient", {})
    values = NoteSurrogates(
        rng=rng,
        anchor=date(2005, 1, 1) + timedelta(days=rng.randint(0, 8 * 365)),
        patient_sex=pinned.get("sex") or patient_sex(note.text, rng),
        patient_first=pinned.get("first"),
    )
    values.patient_age = patient_age(note, entry, rng)
    body = body_segments(note, entry, values)
    header, footer = frame_segments(note, values, rng)
    stats.update({"with header": bool(header), "with footer": bool(footer)})
    segments = header + ([Segment("\n")] if header else []) + body
    segments += ([Segment("\n\n")] if footer else []) + footer
    return assemble(note, segments, upper)


def assemble(note: SourceNote, segments: list[Segment], upper: bool) -> dict[str, Any]:
    """Concatenate segments into the note text and its checked span list."""
    text = ""
    spans: list[dict[str, Any]] = []
    for segment in segments:
        piece = segment.text.upper() if upper else segment.text
        if segment.entity_type:
            spans.append(
                {
                    "start": len(text),
                    "end": len(text) + len(piece),
                    "entity_type": segment.entity_type,
                    "source": segment.source,
                }
            )
        text += piece
    for span in spans:
        value = text[span["start"] : span["end"]]
        if not value or value != value.strip():
            raise ValueError(f"note {note.note_id}: bad span {value!r}")
    return {
        "id": note.note_id,
        "specialty": note.specialty,
        "text": text,
        "spans": spans,
        "upper": upper,
    }


def build(seed: int, annotations_path: Path) -> tuple[list[dict[str, Any]], Counter[str]]:
    """All notes, in note_id order; every sampled note must have a reviewed annotation."""
    notes = source_notes(N_NOTES, seed, MAX_CHARS)
    annotations = json.loads(annotations_path.read_text())["notes"]
    missing = [n.note_id for n in notes if str(n.note_id) not in annotations]
    if missing:
        raise SystemExit(f"notes without a reviewed annotation entry: {missing}")
    upper_ids = set(
        random.Random(seed).sample([n.note_id for n in notes], round(UPPER_SHARE * len(notes)))
    )
    stats: Counter[str] = Counter()
    records = [
        build_note(n, annotations[str(n.note_id)], seed, n.note_id in upper_ids, stats)
        for n in notes
    ]
    return records, stats


def summary(records: list[dict[str, Any]], stats: Counter[str]) -> str:
    """Counts for SOURCE.md and the build log."""
    spans = [span for record in records for span in record["spans"]]
    by_type = Counter(span["entity_type"] for span in spans)
    by_source = Counter(span["source"] for span in spans)
    lines = [
        f"notes: {len(records)}, upper case: {sum(r['upper'] for r in records)}, "
        f"characters: {sum(len(r['text']) for r in records)}",
        f"notes with header: {stats['with header']}, with footer: {stats['with footer']}",
        f"spans: {len(spans)} ({dict(by_source)})",
    ]
    lines += [f"  {name}: {count}" for name, count in by_type.most_common()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI entry point: build, check, write notes.jsonl and print counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--annotations", type=Path, default=OUT_DIR / "annotations.json")
    args = parser.parse_args(argv)
    records, stats = build(args.seed, args.annotations)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "notes.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(summary(records, stats))


if __name__ == "__main__":
    main()
