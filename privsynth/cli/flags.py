"""Library messages name parameters by their Python names in backticks
(```privacy_unit```); the CLI shows its own flags instead (``--privacy-unit``)."""

from __future__ import annotations

import re
import shlex

#: Python parameter -> CLI flag, for every parameter a library message may name
FLAGS = {
    "delta": "--delta",
    "discovery_share": "--discovery-share",
    "epsilon": "--epsilon",
    "generator": "--generator",
    "generator_options": "--option",
    "holdout": "--holdout",
    "ledger": "--ledger",
    "max_rows_per_unit": "--max-rows-per-unit",
    "output": "--output",
    "privacy_unit": "--privacy-unit",
    "dataset": "--dataset",
    "rows": "--rows",
    "schema": "--schema",
    "seed": "--seed",
    "strict": "--strict",
    "suppressed": "--suppressed",
    "target": "--target",
    "text_columns": "--text-column",
    "text_column": "--text-column",
    "condition_on": "--condition-on",
    "text_options": "--text-option",
    "text_share": "--text-share",
    "text_field": "--text-field",
    "unsafe_seed": "--unsafe-seed",
}
_PARAMETER = re.compile(r"`([a-z][a-z_]*)(?:=([^`]*))?`")
#: library calls named in messages, and the command that does the same
_SET_BUDGET = re.compile(r"`Ledger\.set_budget\('([^'`]*)', epsilon=E\)`")


def for_cli(message: str) -> str:
    """``message`` with each backticked parameter the CLI has a flag for replaced by the
    flag (``privacy_unit=COLUMN`` becomes ``--privacy-unit COLUMN``)."""

    def replace(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        flag = FLAGS.get(name)
        if flag is None:
            return match.group(0)
        if value is None or value == "True":
            return flag
        return f"{flag} {value.strip(chr(39))}"

    message = _SET_BUDGET.sub(
        lambda m: f"`privsynth budget set {shlex.quote(m.group(1))} --epsilon E`", message
    )
    return _PARAMETER.sub(replace, message)
