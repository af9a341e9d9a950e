"""A run's configuration: every choice besides the data, validated before anything is
read. The one place where the library's defaults live (the CLI reads them here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privsynth.defaults import DEFAULT_GENERATOR, DEFAULT_MAX_ROWS, DISCOVERY_SHARE, QUALITY_SHARE
from privsynth.domain.suppressed import SUPPRESSED_CHOICES
from privsynth.dp.ledger import check_budget_values, check_dataset_name
from privsynth.dp.units import PrivacyUnit
from privsynth.errors import ConfigurationError
from privsynth.generators import GENERATORS
from privsynth.generators.choice import AUTO, check_auto_options

#: share of delta given to thresholded category discovery (the rest to the conversion)
DISCOVERY_DELTA_SHARE = 0.01
#: purpose of the spend that records that a seeded run's noise is no protection
SEEDED_RUN = "seeded noise: not private"

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DISCOVERY_DELTA_SHARE",
    "DISCOVERY_SHARE",
    "QUALITY_SHARE",
    "SEEDED_RUN",
    "SynthesisConfig",
]


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything a run needs besides the data; validated before anything is read."""

    epsilon: float
    delta: float | None = None
    generator: str = DEFAULT_GENERATOR
    generator_options: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    #: the ledger budget to charge: required (a budget belongs to a dataset)
    dataset: str | None = None
    #: seeds the noise: for tests only, and only with ``unsafe_seed`` (then ε = ∞)
    seed: int | None = None
    unsafe_seed: bool = False
    strict: bool = False
    discovery_share: float = DISCOVERY_SHARE
    #: share of the budget for the DP data-quality counts (0: no counts, no warnings)
    quality_share: float = QUALITY_SHARE
    #: column identifying a person; ε then protects all their rows (see privsynth.dp.units)
    privacy_unit: str | None = None
    max_rows_per_unit: int | None = None
    #: scan the synthetic output for residual PII (warnings with counts)
    residual_scan: bool = True
    #: ``keep`` the ``<other>`` of discovered categories, or ``resample`` those rows
    suppressed: str = "keep"
    #: a free-text column written by the DP text generator (the rest by ``generator``)
    text_column: str | None = None
    #: categorical columns whose synthetic values steer the text (control prefixes)
    condition_on: tuple[str, ...] = ()
    #: share of the zCDP budget the tabular part gives up for the text (mixed tables);
    #: ``None``: sized from the number of modelled columns (:func:`default_text_share`)
    text_share: float | None = None
    #: options of the text generator (``model``, ``epochs``, ``sample_rate``, ...)
    text_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Refuse a configuration that cannot run, before the ledger or the data is used."""
        check_budget_values(self.epsilon, self.delta if self.delta is not None else 1e-6)
        if self.generator == AUTO:
            check_auto_options(self.generator_options)
        else:
            GENERATORS.get(self.generator)
        self._check_rows()
        self._check_shares()
        self._check_text()
        if self.dataset is None:
            raise ConfigurationError(
                "a dataset name is required: the budget belongs to the data, not to a file",
                hint="pass `dataset` (the CLI defaults to the input file's stem)",
            )
        check_dataset_name(self.dataset)
        if self.seed is not None and not self.unsafe_seed:
            raise ConfigurationError(
                "`seed` makes the noise reproducible, so the run would not be private",
                hint="drop `seed`; for tests add `unsafe_seed` (recorded in the ledger as ε=∞)",
            )
        PrivacyUnit.of(self.privacy_unit, self.max_rows_per_unit)
        if self.suppressed not in SUPPRESSED_CHOICES:
            raise ConfigurationError(
                f"unknown handling of suppressed categories {self.suppressed!r}",
                hint=f"choose one of: {', '.join(SUPPRESSED_CHOICES)}",
            )

    def _check_rows(self) -> None:
        if self.rows is not None and (isinstance(self.rows, bool) or self.rows < 1):
            raise ConfigurationError(f"`rows` must be a positive integer, got {self.rows!r}")

    def _check_text(self) -> None:
        if self.text_column is None:
            if self.condition_on or self.text_options:
                raise ConfigurationError(
                    "`condition_on` and `text_options` need a text column",
                    hint="name the free-text column with `text_column`",
                )
            return
        top = 1.0 - self.discovery_share - self.quality_share
        if self.text_share is not None and not 0.0 < self.text_share < top:
            raise ConfigurationError(
                f"`text_share` must be in (0, 1 - discovery_share - quality_share), got "
                f"{self.text_share!r}",
                hint="e.g. text_share=0.5",
            )
        if self.generator not in (AUTO, "mst", "aim", "independent"):
            raise ConfigurationError(
                f"a text column needs a marginal tabular generator, not {self.generator!r}",
                hint="use auto, mst or aim for the table's other columns",
            )
        from privsynth.text.generator import TextGenerator

        try:
            TextGenerator(**self.text_options)  # refuses unknown options now
        except TypeError:
            names = ", ".join(sorted(self.text_options))
            raise ConfigurationError(
                f"the text generator does not accept these options: {names}",
                hint="see docs/text.md for its options",
            ) from None

    def text_share_for(self, modelled_columns: int) -> float:
        """The text's share of the zCDP budget: as configured, else what is left when the
        table keeps its discovery and quality shares plus 5 % per modelled column (at
        most half the budget): a specialty column needs little, a wide table more."""
        if self.text_share is not None:
            return self.text_share
        table = self.discovery_share + self.quality_share + 0.05 * max(1, modelled_columns)
        return 1.0 - min(0.5, table)

    def _check_shares(self) -> None:
        if not 0.0 < self.discovery_share < 1.0 or not 0.0 <= self.quality_share < 1.0:
            raise ConfigurationError("`discovery_share` and `quality_share` must be in [0, 1)")
        if self.discovery_share + self.quality_share >= 1.0:
            raise ConfigurationError("`discovery_share` + `quality_share` must leave budget to fit")
