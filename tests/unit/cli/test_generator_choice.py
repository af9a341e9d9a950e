"""``generator="auto"`` (the default): privsynth picks the generator from the table's
public width, says which and why, and the ledger records the one that ran."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_inprocess import Cli

from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError
from privsynth.generators.choice import (
    AIM_MAX_COLUMNS,
    GeneratorChoice,
    choose_generator,
)

COLUMNS = ["sex", "race", "income"]


def _columns(count: int) -> list[str]:
    return [f"c{i}" for i in range(count)]


def test_up_to_the_limit_aim_is_picked_with_its_time_budget() -> None:
    for width in (1, 4, AIM_MAX_COLUMNS):
        choice = choose_generator(_columns(width), {})
        assert isinstance(choice, GeneratorChoice)
        assert choice.name == "aim"
        assert choice.options == {}
        assert str(width) in choice.reason
    with_target = choose_generator(_columns(4), {"target": "c3"})
    assert with_target.options == {"target": "c3"}


def test_a_wider_table_goes_to_mst() -> None:
    choice = choose_generator(_columns(AIM_MAX_COLUMNS + 1), {})
    assert (choice.name, choice.options) == ("mst", {})
    assert str(AIM_MAX_COLUMNS + 1) in choice.reason
    with_target = choose_generator(_columns(AIM_MAX_COLUMNS + 1), {"target": "c0"})
    assert (with_target.name, with_target.options) == ("mst", {})
    assert "target ignored" in with_target.reason  # MST has no target: said, not hidden


@pytest.mark.parametrize("width", [4, AIM_MAX_COLUMNS + 1])
def test_options_other_than_target_are_refused(width: int) -> None:
    with pytest.raises(ConfigurationError, match="iterations need a named generator"):
        choose_generator(_columns(width), {"iterations": 100})
    with pytest.raises(ConfigurationError, match="degree, iterations"):
        choose_generator(_columns(width), {"target": "c0", "iterations": 1, "degree": 2})


def test_synthesize_without_a_generator_says_which_it_picked(
    cli: Cli, tmp_path: Path, adult_frame: pd.DataFrame, adult_schema_path: Path
) -> None:
    data, ledger = tmp_path / "small.csv", tmp_path / "ledger.db"
    adult_frame[COLUMNS].head(1000).to_csv(data, index=False)
    public = yaml.safe_load(adult_schema_path.read_text(encoding="utf-8"))["columns"]
    schema = tmp_path / "small.yaml"
    schema.write_text(yaml.safe_dump({"version": 1, "columns": {c: public[c] for c in COLUMNS}}))
    done = cli(
        "synthesize", data, "-e", "1", "--schema", schema, "--option", "target=income",
        "--ledger", ledger, "-o", tmp_path / "out.csv", "-q",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    shown = " ".join(done.stdout.split())
    assert "aim (picked automatically" in shown, done.stdout
    (run,) = Ledger(ledger).runs("small")
    assert run["status"] == "committed"
    assert run["generator"] == "aim"
    options = json.loads(run["params"])["options"]  # what ran: the pick's and the user's
    assert options == {"target": "income"}
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == COLUMNS
