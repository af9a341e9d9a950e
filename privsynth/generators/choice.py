"""Which generator to use when the user names none (``generator="auto"``).

The choice reads only public facts, the number of modelled columns in the header and
schema, so making it spends nothing. The rule follows the tabular benchmark
(docs/benchmarks.md, "Tabular generators"): at ε = 1 AIM leads MST on utility and
fidelity on Adult (15 columns), NLTCS (16) and PUMS (6), but within its time budget it
falls well behind MST on SPARCS (28 columns): its budget is planned for 15 rounds per
column, so on wide tables each measurement is noisy and the clock stops it after a few
rounds. Wide tables go to MST.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from privsynth.errors import ConfigurationError

#: the generator name that asks privsynth to choose
AUTO = "auto"
#: AIM up to this many modelled columns, MST above
AIM_MAX_COLUMNS = 20
#: options accepted with ``auto`` (passed on when the chosen generator takes them)
AUTO_OPTIONS = frozenset({"target"})


@dataclass(frozen=True)
class GeneratorChoice:
    """The generator picked for a table, its options, and why (shown to the user)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def check_auto_options(options: Mapping[str, Any]) -> None:
    """With ``auto``, only options every candidate understands make sense."""
    unknown = sorted(set(options) - AUTO_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"options {', '.join(unknown)} need a named generator, not {AUTO!r}",
            hint="name the generator they belong to (e.g. mst, aim, dpsgd)",
        )


def choose_generator(columns: list[str], options: Mapping[str, Any]) -> GeneratorChoice:
    """The generator for a table with these modelled ``columns`` (public)."""
    check_auto_options(options)
    width = len(columns)
    if width <= AIM_MAX_COLUMNS:
        return GeneratorChoice(
            "aim", dict(options),
            f"best utility and fidelity in the benchmark on tables of up to "
            f"{AIM_MAX_COLUMNS} columns (this one models {width})",
        )  # fmt: skip
    reason = (
        f"{width} modelled columns: above {AIM_MAX_COLUMNS}, MST beat AIM in the benchmark "
        "(AIM's rounds are too few and too noisy on wide tables within its time budget)"
    )
    return GeneratorChoice("mst", {}, reason + _dropped(options))


def _dropped(options: Mapping[str, Any]) -> str:
    return f" (option {', '.join(sorted(options))} ignored: MST has none)" if options else ""
