"""The privacy unit: whom the printed ε protects, and how their contribution is bounded.

By default the unit is one row. Health data often has several rows per person
(encounters, claims, notes), and protection per row then degrades with each person's
row count. With a privacy unit (``--privacy-unit patient_id``), every person keeps at
most ``max_rows`` of their rows, drawn at random, and every mechanism scales its
sensitivity by ``max_rows`` (:class:`~privsynth.dp.mechanisms.Mechanisms`), so the ε of
a run bounds what it reveals about one *person*: adding or removing all their rows.

Rows whose unit id is missing are left out: they cannot be attributed to a person,
so no bound on a person's rows would cover them. The unit column itself is never
modelled and never output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth.defaults import DEFAULT_MAX_ROWS
from privsynth.errors import ConfigurationError

#: above this, the noise of every measurement is so large the output is useless
MAX_ROWS_LIMIT = 1000


@dataclass(frozen=True)
class PrivacyUnit:
    """Whose privacy ε bounds: a row (``column=None``) or every row sharing an id."""

    column: str | None = None
    max_rows: int = 1

    @classmethod
    def of(cls, column: str | None, max_rows: int | None = None) -> PrivacyUnit:
        """A validated unit; ``max_rows`` defaults to :data:`DEFAULT_MAX_ROWS`."""
        if column is None:
            if max_rows not in (None, 1):
                raise ConfigurationError(
                    "`max_rows_per_unit` needs a privacy unit",
                    hint="add `privacy_unit=COLUMN` (the column that identifies a person)",
                )
            return cls()
        rows = DEFAULT_MAX_ROWS if max_rows is None else max_rows
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS_LIMIT:
            raise ConfigurationError(
                f"max rows per unit must be an integer from 1 to {MAX_ROWS_LIMIT}, got {rows!r}",
                hint="a person's rows beyond it are left out at random; 1-10 is typical",
            )
        return cls(column, rows)

    @property
    def is_row(self) -> bool:
        return self.column is None

    def describe(self) -> str:
        """How the summary and reports name the unit."""
        if self.column is None:
            return "per row"
        return f"per {self.column} (at most {self.max_rows} rows each)"

    def bound(self, frame: pd.DataFrame, rng: np.random.Generator) -> BoundedTable:
        """Keep at most ``max_rows`` random rows per unit (rows without an id dropped);
        the unit column leaves the table and its ids come back separately.

        Which rows a unit keeps depends only on its own rows and a random key drawn
        for the run (a keyed hash ranks each unit's rows), never on other units: two
        datasets differing in one unit's rows keep the same rows of everyone else,
        which is what the sensitivity argument needs."""
        if self.column is None:
            return BoundedTable(frame, None)
        present = frame.loc[frame[self.column].notna().to_numpy()]
        key = rng.bytes(8).hex()  # 16 characters: SipHash's key
        order = pd.DataFrame(
            {
                "unit": present[self.column].to_numpy(),
                "rank": pd.util.hash_pandas_object(present, index=False, hash_key=key).to_numpy(),
                "position": np.arange(len(present)),
            }
        ).sort_values(["unit", "rank"], kind="stable")
        keep = order["position"].to_numpy()[
            order.groupby("unit").cumcount().to_numpy() < self.max_rows
        ]
        kept = present.iloc[np.sort(keep)]
        units = kept[self.column].reset_index(drop=True)
        rows = kept.drop(columns=[self.column]).reset_index(drop=True)
        return BoundedTable(rows, units)


@dataclass(frozen=True)
class BoundedTable:
    """The rows a run may use, and each row's unit id (``None`` per row)."""

    frame: pd.DataFrame
    units: pd.Series | None
