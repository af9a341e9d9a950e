"""Surrogate PHI for the clinical benchmark, drawn from sources independent of Faker.

The detector under test may use Faker's name and city lists, so surrogates that came
from Faker would be found for the wrong reason. Names come from the 1990 US Census
frequency lists shipped by the ``names`` package, places from the USPS-derived
database in the ``zipcodes`` package, and facilities, employers and streets from
lists written here. Every draw goes through one seeded ``random.Random``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

FACILITIES: tuple[str, ...] = (
    "St. Elizabeth's Medical Center",
    "Mercy General Hospital",
    "Providence St. Vincent Medical Center",
    "Good Samaritan Regional Medical Center",
    "Lakeview Community Hospital",
    "Riverside Methodist Hospital",
    "Sacred Heart Medical Center",
    "St. Luke's Regional Medical Center",
    "Baptist Memorial Hospital",
    "Valley Presbyterian Hospital",
    "Northside Medical Center",
    "Holy Cross Hospital",
    "Memorial Hermann Southwest",
    "St. Joseph Mercy Hospital",
    "Our Lady of Lourdes Medical Center",
    "Wesley Medical Center",
    "Cedar Ridge Behavioral Health",
    "Fairview Southdale Hospital",
    "Bayfront Health Center",
    "Kessler Institute for Rehabilitation",
    "Children's Mercy Hospital",
    "Rainbow Babies and Children's Hospital",
    "Hillcrest Medical Center",
    "Pinecrest Rehabilitation Hospital",
    "Summit Surgical Center",
    "Meadowbrook Nursing and Rehabilitation",
    "Oak Hill Family Practice",
    "Harborview Medical Center",
    "Saint Francis Hospital",
    "Covenant Medical Center",
    "Shady Grove Adventist Hospital",
    "Brookside Urgent Care",
    "Crossroads Community Clinic",
    "Eastside Dialysis Center",
    "Willow Creek Medical Group",
    "Mount Carmel West",
    "Blessing Hospital",
    "Trinity Health System",
    "Alta Bates Summit Medical Center",
    "Grandview Medical Center",
    "St. Mary's of Michigan",
    "Bryn Mawr Rehab Hospital",
    "Community Hospital of the Monterey Peninsula",
    "Overlake Medical Center",
    "Genesis Medical Center",
    "Evergreen Health Kirkland",
    "Aultman Hospital",
    "Ochsner Baptist",
    "Swedish Edmonds",
    "Redlands Community Hospital",
)
"""Plausible facility names written for this set (some real, all common patterns)."""

EMPLOYERS: tuple[str, ...] = (
    "Tri-County Freight",
    "Midwest Auto Salvage",
    "Great Lakes Cold Storage",
    "Hanson Furniture Warehouse",
    "Delmar Packaging",
    "Kettering Steel Fabricators",
    "Blue Ridge Poultry",
    "Allied Distribution Services",
    "Summit Ready Mix",
    "Pioneer Plastics",
    "Cardinal Logistics",
    "Riverbend Foods",
    "Northgate Appliance Outlet",
    "Keystone Temp Staffing",
    "Millbrook Chemical",
)
"""Employer names written for this set; labelled FACILITY (a named place of work)."""

STREET_NAMES: tuple[str, ...] = (
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Elm",
    "Pine",
    "Washington",
    "Lincoln",
    "Jefferson",
    "Park",
    "Lake",
    "Hill",
    "Walnut",
    "Sunset",
    "Highland",
    "Church",
    "Mill",
    "Spring",
    "Ridge",
    "Chestnut",
    "Franklin",
    "Madison",
    "Riverside",
    "Meadow",
    "Cherry",
    "3rd",
    "5th",
    "12th",
    "42nd",
    "Old Mill",
    "Martin Luther King Jr",
    "Fairview",
    "Prospect",
)
"""Common US street names (US Census/USPS top-frequency patterns)."""

STREET_SUFFIXES: tuple[str, ...] = (
    "St",
    "Street",
    "Ave",
    "Avenue",
    "Rd",
    "Road",
    "Dr",
    "Blvd",
    "Ln",
)
"""Street suffixes as written in clinical registration systems."""

EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com", "aol.com", "comcast.net", "outlook.com")
"""Consumer mail domains most often seen in patient contact fields."""

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_US_STATES: frozenset[str] = frozenset(
    (
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    )
)


@dataclass(frozen=True)
class Person:
    """A surrogate person: the parts templates need, already in display case."""

    first: str
    middle: str
    last: str
    sex: str


@dataclass(frozen=True)
class Place:
    """A real US city/state/ZIP triple with the ZIP's telephone area codes."""

    city: str
    state: str
    zip_code: str
    area_codes: tuple[str, ...]


def _census_file(name: str) -> list[tuple[str, float]]:
    """(NAME, frequency %) rows of one Census list shipped by the ``names`` package."""
    import names

    path = Path(names.__file__).parent / name
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            rows.append((parts[0], float(parts[1])))
    return rows


@cache
def census_names() -> dict[str, tuple[list[str], list[float]]]:
    """Census first (by sex) and last names with their frequencies as sampling weights."""
    lists = {"F": "dist.female.first", "M": "dist.male.first", "last": "dist.all.last"}
    out = {}
    for key, filename in lists.items():
        rows = _census_file(filename)
        out[key] = ([name for name, _ in rows], [max(freq, 0.0005) for _, freq in rows])
    return out


def display_case(name: str) -> str:
    """Census names are upper case; give them the casing a chart would use (McDonald)."""
    text = name.capitalize()
    if text.startswith("Mc") and len(text) > 2:
        text = "Mc" + text[2:].capitalize()
    return text


def person(rng: random.Random, sex: str | None = None) -> Person:
    """A frequency-weighted Census name; ``sex`` F/M, random when not given."""
    lists = census_names()
    sex = sex or rng.choice("FM")
    firsts, first_weights = lists[sex]
    lasts, last_weights = lists["last"]
    first, middle = rng.choices(firsts, first_weights, k=2)
    (last,) = rng.choices(lasts, last_weights, k=1)
    return Person(display_case(first), display_case(middle), display_case(last), sex)


@cache
def us_places() -> tuple[Place, ...]:
    """Active standard ZIP codes of the 50 states and DC, sorted for reproducibility."""
    import zipcodes

    rows = [
        row
        for row in zipcodes.list_all()  # type: ignore[no-untyped-call]
        if row["zip_code_type"] == "STANDARD" and row["active"] and row["state"] in _US_STATES
    ]
    rows.sort(key=lambda row: row["zip_code"])
    return tuple(
        Place(row["city"], row["state"], row["zip_code"], tuple(row["area_codes"] or ()))
        for row in rows
    )


def place(rng: random.Random) -> Place:
    """A uniformly drawn real city/state/ZIP."""
    return rng.choice(us_places())


def street(rng: random.Random) -> str:
    """A street line such as ``1427 Maple Ave`` or ``88 Hargrove Rd Apt 3B``."""
    lasts, weights = census_names()["last"]
    if rng.random() < 0.7:
        name = rng.choice(STREET_NAMES)
    else:
        name = display_case(rng.choices(lasts, weights)[0])
    line = f"{rng.randint(1, 9899)} {name} {rng.choice(STREET_SUFFIXES)}"
    if rng.random() < 0.2:
        unit = f"{rng.randint(1, 40)}{rng.choice(['', 'A', 'B'])}"
        line += f" {rng.choice(['Apt', 'Unit', '#'])} {unit}"
    return line


def phone(rng: random.Random, area_codes: tuple[str, ...] = ()) -> str:
    """A NANP number in one of the formats clinical systems print."""
    area = rng.choice(area_codes) if area_codes else str(rng.randint(201, 989))
    exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    line = f"{rng.randint(0, 9999):04d}"
    formats = (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"({area}){exchange}-{line}",
        f"{area} {exchange} {line}",
    )
    return rng.choice(formats)


def mrn(rng: random.Random) -> str:
    """A medical record number in a common hospital format."""
    digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
    dashed = f"{digits[:3]}-{digits[3:5]}-{digits[5:7]}"
    return rng.choice((digits[:7], digits[:8], f"MR{digits[:6]}", dashed, f"E{digits}"))


def account(rng: random.Random) -> str:
    """A hospital account / encounter number."""
    digits = "".join(str(rng.randint(0, 9)) for _ in range(10))
    return rng.choice((digits, digits[:9], f"V{digits[:8]}", f"A{digits[:7]}-{digits[7:]}"))


def plan_number(rng: random.Random) -> str:
    """A health plan member id: BCBS-style prefix, Medicare MBI, or Medicaid style."""
    letters = "ABCDEFGHJKMNPQRTUVWXY"
    digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
    prefix = "".join(rng.choice(letters) for _ in range(3))
    mbi = (
        f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 9)}-"
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 9)}-"
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    )
    medicaid = f"{prefix[:2]}{digits[:5]}{prefix[2]}"
    return rng.choice((f"{prefix}{digits}", f"W{digits}", mbi, medicaid))


def ssn(rng: random.Random) -> str:
    """A syntactically valid SSN (area not 000, 666 or 9xx; group and serial non-zero)."""
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def npi(rng: random.Random) -> str:
    """A 10-digit NPI whose last digit is the Luhn check over the 80840 prefix."""
    body = str(rng.choice((1, 2))) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    total = 0
    for index, char in enumerate(reversed("80840" + body)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return body + str((10 - total % 10) % 10)


def email(rng: random.Random, who: Person) -> str:
    """A consumer e-mail address built from the person's name."""
    user = rng.choice(
        (
            f"{who.first}.{who.last}",
            f"{who.first[0]}{who.last}{rng.randint(1, 99)}",
            f"{who.last}{who.first[0]}",
            f"{who.first}{rng.randint(1950, 2005)}",
        )
    )
    return f"{user.lower()}@{rng.choice(EMAIL_DOMAINS)}"


def format_date(rng: random.Random, day: date, with_year_only: bool = False) -> str:
    """``day`` in one of the formats clinical notes use; ``with_year_only`` drops ``7/22``.

    A DOB always carries its year; other dates may be written without it.
    """
    styles = [
        f"{day.month}/{day.day}/{day.year}",
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month:02d}-{day.day:02d}-{day.year % 100:02d}",
        f"{MONTHS[day.month - 1]} {day.day}, {day.year}",
        f"{day.day:02d}-{MONTHS[day.month - 1][:3]}-{day.year}",
        f"{day.year}-{day.month:02d}-{day.day:02d}",
        f"{day.month}/{day.day}/{day.year % 100:02d}",
    ]
    if not with_year_only:
        styles.append(f"{day.month}/{day.day}")
    return rng.choice(styles)


def long_date(day: date) -> str:
    """``July 22, 2019``: the form letters are dated with."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
