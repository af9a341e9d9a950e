"""``Synthesizer``: the one way a run is built. Fit once (the only step that reads the
data and spends ε), then sample, save and load as often as needed, for free.

    s = Synthesizer("mst", epsilon=2, dataset="claims", ledger="ledger.db")
    s.fit(df)                    # admits, reserves, spends, commits in the ledger
    s.sample(50_000)             # post-processing of the fitted DP model
    s.save("claims.privsynth")   # DP output: holds no record
    Synthesizer.load("claims.privsynth").sample(1_000, seed=7)
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth.cells import mark_missing
from privsynth.defaults import DEFAULT_GENERATOR
from privsynth.domain.suppressed import SuppressedReport
from privsynth.dp.accounting import compose
from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError
from privsynth.fingerprint import keyed_fingerprint
from privsynth.generators import GENERATORS, ProgressCallback
from privsynth.generators.base import GeneratorState, no_progress
from privsynth.generators.choice import AUTO, GeneratorChoice, choose_generator
from privsynth.io import TableRead, check_output_path, fingerprint, write_table
from privsynth.schema import Schema
from privsynth.synthesis.config import SynthesisConfig
from privsynth.synthesis.drawing import Drawn, draw_rows, scan
from privsynth.synthesis.fitting import Fit, FittedModel, make_generator, read_source, source_name
from privsynth.synthesis.model_file import ModelFile, TextPartFile, load_model, save_model
from privsynth.synthesis.plan import Plan, SchemaSource, Source, make_plan
from privsynth.synthesis.records import (
    FitRecord,
    FitReport,
    SampleReport,
    residual_message,
)
from privsynth.synthesis.text_part import FittedText
from privsynth.text.generator import TextGenerator
from privsynth.text.refill import refill
from privsynth.warnings import LineageWarning, PrivsynthWarning, ResidualPIIWarning, emit

LedgerSource = Ledger | str | Path | None


class Synthesizer:
    """A differentially private generator bound to a dataset's budget in a ledger.

    The constructor validates everything (nothing is read); :meth:`fit` is the only
    step that reads data, and it is charged in full to ``dataset``'s budget in the
    ledger even if it fails (whether it fails may depend on the data). A fitted
    synthesizer samples any number of rows any number of times without spending more:
    sampling is post-processing of the DP model."""

    def __init__(
        self,
        generator: str = DEFAULT_GENERATOR,
        *,
        epsilon: float,
        dataset: str,
        delta: float | None = None,
        ledger: LedgerSource = None,
        schema: SchemaSource = None,
        **settings: Any,
    ) -> None:
        """``settings`` are :class:`SynthesisConfig` fields (``rows``, ``privacy_unit``,
        ``max_rows_per_unit``, ``strict``, ``discovery_share``, ``quality_share``,
        ``suppressed``, ``residual_scan``, ``seed``/``unsafe_seed``); any other keyword
        is an option of the generator (e.g. ``iterations=300`` for MST)."""
        fields = set(SynthesisConfig.__dataclass_fields__) - {"generator_options"}
        options = {k: v for k, v in settings.items() if k not in fields}
        known = {k: v for k, v in settings.items() if k in fields}
        config = SynthesisConfig(
            epsilon=epsilon, delta=delta, generator=generator, generator_options=options,
            dataset=dataset, **known,
        )  # fmt: skip
        self._setup(config, schema, ledger)

    @classmethod
    def from_config(
        cls, config: SynthesisConfig, *, schema: SchemaSource = None, ledger: LedgerSource = None
    ) -> Synthesizer:
        """A synthesizer for an already built configuration (the CLI's way in)."""
        synthesizer = cls.__new__(cls)
        synthesizer._setup(config, schema, ledger)
        return synthesizer

    def _setup(self, config: SynthesisConfig, schema: SchemaSource, ledger: LedgerSource) -> None:
        config.validate()
        if config.generator != AUTO:
            make_generator(config)  # refuses unknown options now, not after admission
        self.config = config
        self._schema_source = schema
        self._ledger_source = ledger
        self._book: Ledger | None = ledger if isinstance(ledger, Ledger) else None
        self._model: FittedModel | None = None
        self._draws = 0
        #: the generator picked for ``"auto"`` and why (None when one was named)
        self.choice: GeneratorChoice | None = None
        #: the fit's account (None before :meth:`fit`, and for a loaded model)
        self.report: FitReport | None = None
        #: the ledger run this model descends from (after :meth:`fit` or :meth:`load`)
        self.record: FitRecord | None = None
        #: the most recent draw (rows, suppressed categories, residual PII, output)
        self.last_sample: SampleReport | None = None

    # fitting ----------------------------------------------------------------------------

    def fit(self, data: Source, *, progress: ProgressCallback = no_progress) -> Synthesizer:
        """Learn the DP model of ``data`` (a frame, CSV or Parquet file), spending at most
        the configured (ε, δ) from the dataset's budget; refused before reading if the
        budget cannot pay for it."""
        if self._model is not None:
            raise ConfigurationError(
                "this synthesizer is already fitted: a second fit would spend ε again",
                hint="sample from it, or create a new Synthesizer to fit other data",
            )
        started = time.monotonic()
        book = self._ledger()
        plan = self._choose(make_plan(data, self.config, self._schema_source, book), progress)
        generator = make_generator(self.config)
        plan = plan.with_generator(generator)
        text = self._text_generator(progress)
        if text is not None:
            plan = plan.with_text(text)
        fit = Fit(plan, generator, progress, text)
        progress("checking the privacy budget")
        book.admit(plan.dataset, plan.limit, plan.unit.column)  # before the data is read
        run_id, read = self._reserve(book, plan, data, progress)
        self._model = self._fit_and_commit(book, fit, run_id, read, source_name(data))
        self.record = self._record(plan, fit, run_id)
        self.report = FitReport(
            self.record, book.status(plan.dataset), fit.spends, fit.schema, fit.discovery,
            fit.quality, [str(w) for w in fit.warnings], time.monotonic() - started,
            self.choice.reason if self.choice else None,
        )  # fmt: skip
        emit(fit.warnings)
        return self

    def _text_generator(self, progress: ProgressCallback) -> TextGenerator | None:
        """The text generator with its model built (before admission: a missing model
        or a bad option fails without touching the budget)."""
        if self.config.text_column is None:
            return None
        text = TextGenerator(**self.config.text_options)
        progress(f"text: loading the {text.model_name} model")
        text.prepare()
        return text

    def _choose(self, plan: Plan, progress: ProgressCallback) -> Plan:
        """With ``auto``, the generator picked from the plan's public columns."""
        if self.config.generator != AUTO:
            return plan
        self.choice = choose_generator(plan.modelled_columns, self.config.generator_options)
        self.config = replace(
            self.config, generator=self.choice.name, generator_options=self.choice.options
        )
        progress(f"generator {self.choice.name}: {self.choice.reason}")
        return replace(plan, config=self.config)

    def _reserve(
        self, book: Ledger, plan: Plan, data: Source, progress: ProgressCallback
    ) -> tuple[str, TableRead]:
        """Read the rows and reserve the run's whole limit, atomically refusing content
        already registered under another dataset."""
        progress("reading data")
        read = read_source(data)
        run_id = uuid.uuid4().hex
        book.reserve(
            plan.dataset, run_id, plan.limit, (self.config.epsilon, plan.delta),
            self.config.generator,
            {"options": self.config.generator_options, "rows": self.config.rows},
            fingerprint=keyed_fingerprint(read.frame, book.fingerprint_key()),
            privacy_unit=plan.unit.column, max_rows_per_unit=plan.unit.max_rows,
        )  # fmt: skip
        return run_id, read

    def _fit_and_commit(
        self, book: Ledger, fit: Fit, run_id: str, read: TableRead, name: str
    ) -> FittedModel:
        """From the reservation on, a failure is committed as failed and keeps the
        whole reservation. The rows are not kept after the fit."""
        read = replace(read, frame=mark_missing(read.frame, fit.plan.schema.missing_values))
        try:
            model = fit.execute(read, name)
        except BaseException:
            book.commit(run_id, fit.unbounded_spends(), failed=True, notes=fit.notes())
            raise
        book.commit(run_id, fit.spends, notes=fit.notes())
        return model

    def _record(self, plan: Plan, fit: Fit, run_id: str) -> FitRecord:
        spent = compose([s.cost for s in fit.spends]).epsilon(plan.delta)
        return FitRecord(
            dataset=plan.dataset, run_id=run_id, epsilon=self.config.epsilon, delta=plan.delta,
            spent_epsilon=spent, generator=self.config.generator,
            generator_params=json.loads(json.dumps(fit.generator.params())),
            privacy_unit=plan.unit.column,
            max_rows_per_unit=plan.unit.max_rows, seeded=self.config.seed is not None,
            private=fit.generator.private, text=_text_record(self.config, fit),
        )  # fmt: skip

    # sampling ---------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self._model is not None

    @property
    def schema(self) -> Schema:
        """The completed schema the model samples into (declared or DP-discovered)."""
        return self._fitted().schema

    def sample(
        self,
        rows: int | None = None,
        *,
        seed: int | None = None,
        output: str | Path | None = None,
        progress: ProgressCallback = no_progress,
    ) -> pd.DataFrame:
        """``rows`` synthetic records (default: the configured rows, else the model's
        noisy row count). Spends nothing. ``seed`` makes the draw reproducible (safe:
        the model is already DP). With ``output``, the table is written atomically and,
        when the ledger is known, linked to its run (lineage)."""
        model = self._fitted()
        if output is not None:
            check_output_path(output)
        count = _row_count(rows, model.default_rows)
        rng = self._rng(seed)
        drawn = self._draw_table(model, count, rng, progress)
        data = drawn.data
        written = None if model.text is None else model.text.draw(data, model.codecs, rng, progress)
        found: list[PrivsynthWarning] = []
        residual = None
        if self.config.residual_scan:
            progress("scanning the output for residual PII")
            # the text before its placeholders are refilled: surrogates are no leak
            residual = scan(_with_text(data, model, written), model.schema)
            if residual.total:
                found.append(ResidualPIIWarning(residual_message(residual)))
        if written is not None:
            data = _with_text(data, model, refill(written, rng))
        report = SampleReport(count, drawn.suppressed, residual, constraints=drawn.constraints)
        if output is not None:
            progress("writing output")
            found += self._write(data, Path(output), report)
        self.last_sample = report
        emit(found)
        return data

    def _draw_table(
        self, model: FittedModel, count: int, rng: np.random.Generator, progress: ProgressCallback
    ) -> Drawn:
        """The tabular columns (a frame of ``count`` empty rows for text alone)."""
        if model.tabular:
            return draw_rows(model, count, rng, self.config.suppressed, progress)
        return Drawn(pd.DataFrame(index=pd.RangeIndex(count)), SuppressedReport(0))

    def _rng(self, seed: int | None) -> np.random.Generator:
        """A fresh generator per draw; a seeded (test) run draws reproducibly."""
        self._draws += 1
        if seed is None and self.config.seed is not None:
            return np.random.default_rng([self.config.seed, self._draws])
        return np.random.default_rng(seed)

    def _write(self, data: pd.DataFrame, path: Path, report: SampleReport) -> list[LineageWarning]:
        write_table(data, path)
        report.output, report.output_sha256 = path, fingerprint(path)
        notes = {"rows": report.rows}
        if report.residual is not None:
            notes["residual_pii"] = report.residual.total
        return self._link("output", path, report.output_sha256, notes, report)

    def _link(
        self,
        kind: str,
        path: Path,
        sha256: str,
        notes: dict[str, Any],
        report: SampleReport | None = None,
    ) -> list[LineageWarning]:
        """Record an artifact made from this model's run in the ledger, if it is known."""
        book, record = self._known_ledger(), self.record
        if book is None or record is None:
            return []
        if not book.record_artifact(record.run_id, kind, path, sha256, notes):
            return [
                LineageWarning(
                    f"the {kind} was not linked to run {record.run_id[:12]}: the ledger "
                    f"{book.path} does not hold that run"
                )
            ]
        if report is not None:
            report.recorded = True
        return []

    # saving and loading -----------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted model (a documented, versioned, non-executable file) and link
        it to its run in the ledger when the ledger is known."""
        model, record = self._fitted(), self.record
        assert record is not None
        sampling = {
            "rows": model.default_rows,
            "suppressed": self.config.suppressed,
            "residual_scan": self.config.residual_scan,
        }
        state = model.generator.state_dict() if model.tabular else GeneratorState()
        text = None
        if model.text is not None:
            text = TextPartFile(
                model.text.column, list(model.text.condition_on),
                model.text.generator.state_dict(),
            )  # fmt: skip
        content = ModelFile(self.config.generator, state, model.schema, record, sampling, text)
        written = save_model(content, path)
        emit(self._link("model", written, fingerprint(written), {}))
        return written

    @classmethod
    def load(cls, path: str | Path, *, ledger: LedgerSource = None) -> Synthesizer:
        """A fitted synthesizer from a saved model. Loading reads JSON and numeric arrays
        only, never code. With ``ledger``, outputs written by :meth:`sample` are linked
        to the run that paid for the model."""
        content = load_model(path)
        record = content.record
        factory = GENERATORS.get(content.generator)
        tabular = any(spec.modelled for spec in content.schema.columns.values())
        # a text-only model has no fitted tabular generator: an unfitted one stands in
        generator = factory.from_state_dict(content.state) if tabular else factory()  # type: ignore[attr-defined]
        text = None
        if content.text is not None:
            text = FittedText(
                content.text.column, tuple(content.text.condition_on),
                TextGenerator.from_state_dict(content.text.state),
            )  # fmt: skip
        config = SynthesisConfig(
            epsilon=record.epsilon, delta=record.delta, generator=content.generator,
            dataset=record.dataset, suppressed=str(content.sampling.get("suppressed", "keep")),
            residual_scan=bool(content.sampling.get("residual_scan", True)),
        )  # fmt: skip
        synthesizer = cls.from_config(config, ledger=ledger)
        rows = content.sampling.get("rows")
        estimate = (
            generator.estimated_rows
            if tabular or text is None
            else text.generator.estimated_documents
        )
        default_rows = rows if isinstance(rows, int) and rows > 0 else estimate
        synthesizer._model = FittedModel(generator, content.schema, default_rows, text)
        synthesizer.record = record
        return synthesizer

    # helpers ----------------------------------------------------------------------------

    def _fitted(self) -> FittedModel:
        if self._model is None:
            raise ConfigurationError(
                "this synthesizer is not fitted yet", hint="call fit(data) first, or load a model"
            )
        return self._model

    def _ledger(self) -> Ledger:
        """The ledger to charge (opened on first use: the default path if none given)."""
        if self._book is None:
            assert not isinstance(self._ledger_source, Ledger)  # kept as _book at setup
            self._book = Ledger(self._ledger_source)
        return self._book

    def _known_ledger(self) -> Ledger | None:
        """The ledger for lineage: the one fitted with, or the one given to :meth:`load`."""
        if self._book is not None or self._ledger_source is not None:
            return self._ledger()
        return None


def _text_record(config: SynthesisConfig, fit: Fit) -> dict[str, Any] | None:
    if fit.text is None:
        return None
    params = json.loads(json.dumps(fit.text.params()))
    return {
        "column": config.text_column, "condition_on": list(config.condition_on),
        "generator": fit.text.name, "params": params,
    }  # fmt: skip


def _with_text(data: pd.DataFrame, model: FittedModel, texts: list[str] | None) -> pd.DataFrame:
    """``data`` with the text column in its schema position."""
    if texts is None or model.text is None:
        return data
    column = model.text.column
    combined = data.assign(**{column: texts})
    order = [name for name in model.schema.columns if name in combined.columns]
    return combined[order + [c for c in combined.columns if c not in order]]


def _row_count(rows: int | None, default: int) -> int:
    if rows is None:
        return default
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
        raise ConfigurationError(f"`rows` must be a positive integer, got {rows!r}")
    return int(rows)
