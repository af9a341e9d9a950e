"""``privsynth``: synthesize tables under a privacy budget, draft schemas, manage budgets.

Every user mistake ends in one line on stderr (``error: ... (fix: ...)``) and a
non-zero exit code; unexpected failures print only the exception type unless
``PRIVSYNTH_DEBUG=1`` is set, because messages from libraries may quote data.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from privsynth import __version__
from privsynth.cli import console, views
from privsynth.cli.flags import for_cli
from privsynth.defaults import (
    DEFAULT_GENERATOR,
    DEFAULT_MAX_ROWS,
    DEFAULT_MIN_COUNT,
    DISCOVERY_SHARE,
)
from privsynth.dp.ledger import ENV_VAR, Ledger, default_ledger_path
from privsynth.errors import ConfigurationError, PrivsynthError, debug_enabled
from privsynth.io import check_output_path, check_writable_file, table_format

if TYPE_CHECKING:
    import pandas as pd

    from privsynth.compliance.audit import AuditInputs
    from privsynth.compliance.policy import Policy
    from privsynth.schema import Schema
    from privsynth.synthesis import SynthesisConfig, SynthesisResult

#: exit status of an audit in which a policy failed
AUDIT_FAILED = 5

app = typer.Typer(
    name="privsynth",
    help="Differentially private synthetic data with a persistent privacy ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="Draft and check table schemas.", no_args_is_help=True)
budget_app = typer.Typer(help="Set and inspect privacy budgets.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(budget_app, name="budget")

LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help=f"ledger file (default: ${ENV_VAR} or {default_ledger_path()})",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        console.out.print(f"privsynth {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """Differentially private synthetic data with a persistent privacy ledger."""


EpsilonOption = Annotated[float, typer.Option("--epsilon", "-e", help="privacy budget of this run")]
DeltaOption = Annotated[
    float | None, typer.Option(help="δ of this run (default: the dataset budget's δ)")
]
InputArgument = Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file")]
SchemaFileOption = Annotated[Path | None, typer.Option(help="schema YAML declaring public domains")]
StrictOption = Annotated[bool, typer.Option(help="refuse schema values marked data_derived")]
GeneratorOption = Annotated[
    str,
    typer.Option(
        help="auto (picked from the table's width, and said), mst, aim, dpsgd, independent; "
        "baselines with no formal privacy guarantee: sdv:gaussian_copula, sdv:ctgan"
    ),
]
GeneratorOptions = Annotated[
    list[str] | None,
    typer.Option(
        help="generator option KEY=VALUE, e.g. target=income or iterations=300 (repeatable)"
    ),
]
DatasetOption = Annotated[
    str | None, typer.Option(help="dataset name in the ledger (default: input file stem)")
]
RunSeedOption = Annotated[
    int | None, typer.Option(help="seed the noise (tests only: not private; needs --unsafe-seed)")
]
UnsafeSeedOption = Annotated[
    bool, typer.Option(help="allow --seed: the ledger records the run as ε=∞ (tests only)")
]
PrivacyUnitOption = Annotated[
    str | None, typer.Option(help="column identifying a person: ε then protects all their rows")
]
MaxRowsOption = Annotated[
    int | None,
    typer.Option(help=f"rows kept per person, at random (default {DEFAULT_MAX_ROWS})"),
]
DiscoveryShareOption = Annotated[
    float, typer.Option(help="share of ε for discovering undeclared domains")
]
SuppressedOption = Annotated[
    str,
    typer.Option(
        help="categories too rare to release: keep them as <other>, or resample those rows"
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")]
SynthTextColumnOption = Annotated[
    str | None,
    typer.Option(help="free-text column, written by the DP text generator (see docs/text.md)"),
]
ConditionOption = Annotated[
    list[str] | None,
    typer.Option(help="categorical column whose synthetic value steers the text (repeatable)"),
]
BaseModelOption = Annotated[
    str | None,
    typer.Option(help="text model: small (default), smollm2, or a local Hugging Face folder"),
]
TextOptions = Annotated[
    list[str] | None,
    typer.Option(help="text generator option KEY=VALUE, e.g. epochs=5 (repeatable)"),
]
TextShareOption = Annotated[
    float | None,
    typer.Option(help="share of the budget for the text (default: sized from the table's width)"),
]


def _run_options(
    input_path: InputArgument,
    epsilon: EpsilonOption,
    delta: DeltaOption = None,
    schema: SchemaFileOption = None,
    strict: StrictOption = False,
    generator: GeneratorOption = DEFAULT_GENERATOR,
    option: GeneratorOptions = None,
    dataset: DatasetOption = None,
    ledger: LedgerOption = None,
    seed: RunSeedOption = None,
    unsafe_seed: UnsafeSeedOption = False,
    privacy_unit: PrivacyUnitOption = None,
    max_rows_per_unit: MaxRowsOption = None,
    discovery_share: DiscoveryShareOption = DISCOVERY_SHARE,
    suppressed: SuppressedOption = "keep",
    quiet: QuietOption = False,
    text_column: SynthTextColumnOption = None,
    condition_on: ConditionOption = None,
    base_model: BaseModelOption = None,
    text_option: TextOptions = None,
    text_share: TextShareOption = None,
) -> None:
    """The options `synthesize` and `fit` share, declared once: :func:`_with_run_options`
    adds them to each command's signature (what typer reads)."""


@dataclass(frozen=True)
class RunOptions:
    """The shared options of one `synthesize` or `fit` invocation."""

    input_path: Path
    epsilon: float
    delta: float | None
    schema: Path | None
    strict: bool
    generator: str
    option: list[str] | None
    dataset: str | None
    ledger: Path | None
    seed: int | None
    unsafe_seed: bool
    privacy_unit: str | None
    max_rows_per_unit: int | None
    discovery_share: float
    suppressed: str
    quiet: bool
    text_column: str | None
    condition_on: list[str] | None
    base_model: str | None
    text_option: list[str] | None
    text_share: float | None

    def text_options(self) -> dict[str, Any]:
        options = _generator_options(self.text_option or [])
        if self.base_model is not None:
            options["model"] = self.base_model
        return options

    def config(self, rows: int | None) -> SynthesisConfig:
        """The library's configuration (validated there, with every default in one place)."""
        from privsynth.synthesis import SynthesisConfig

        return SynthesisConfig(
            epsilon=self.epsilon, delta=self.delta, generator=self.generator,
            generator_options=_generator_options(self.option or []), rows=rows,
            dataset=self.dataset or self.input_path.stem, seed=self.seed,
            unsafe_seed=self.unsafe_seed, strict=self.strict,
            discovery_share=self.discovery_share, privacy_unit=self.privacy_unit,
            max_rows_per_unit=self.max_rows_per_unit, suppressed=self.suppressed,
            text_column=self.text_column or _implied_text_column(self.input_path),
            condition_on=tuple(_listed(self.condition_on)),
            text_share=self.text_share, text_options=self.text_options(),
        )  # fmt: skip


def _implied_text_column(path: Path) -> str | None:
    """A ``.txt`` input is one column of documents: it is the text column."""
    from privsynth.text_files import TEXT_COLUMN, TEXT_SUFFIXES

    return TEXT_COLUMN if path.suffix.lower() in TEXT_SUFFIXES else None


def _listed(values: list[str] | None) -> list[str]:
    """Repeated or comma-separated names."""
    return [name.strip() for v in values or [] for name in v.split(",") if name.strip()]


def _with_run_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command(run: RunOptions, **own)`` as a typer command taking the shared options
    of :func:`_run_options` next to its own."""
    shared = inspect.signature(_run_options, eval_str=True).parameters
    own = {
        k: v for k, v in inspect.signature(command, eval_str=True).parameters.items() if k != "run"
    }
    merged = [*shared.values(), *own.values()]
    merged.sort(key=lambda p: p.default is not inspect.Parameter.empty)  # required ones first

    @functools.wraps(command)
    def with_options(**values: Any) -> None:
        run = RunOptions(**{name: values.pop(name) for name in shared})
        command(run=run, **values)

    with_options.__signature__ = inspect.Signature(merged)  # type: ignore[attr-defined]
    with_options.__annotations__ = {
        **_run_options.__annotations__, **command.__annotations__
    }  # fmt: skip
    del with_options.__annotations__["run"]
    return with_options


@app.command()
@_with_run_options
def synthesize(
    run: RunOptions,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="output file (default: ./<input>.synthetic.csv)"),
    ] = None,
    rows: Annotated[
        int | None, typer.Option("--rows", "-n", help="rows to generate (default: DP estimate)")
    ] = None,
    audit_policy: Annotated[
        list[str] | None,
        typer.Option("--audit", help="also audit the output against this policy (repeatable)"),
    ] = None,
    holdout: Annotated[
        Path | None, typer.Option(help="real rows kept out of INPUT, for the audit's attacks")
    ] = None,
    target: Annotated[str | None, typer.Option(help="column to predict in the audit")] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="audit report folder (default: OUTPUT.report/)")
    ] = None,
) -> None:
    """Synthesize INPUT under (ε, δ)-DP: fit, then sample once (see also `fit` and `sample`)."""
    from privsynth.synthesis import run_synthesis

    source = run.input_path
    target_path = output or Path.cwd() / f"{source.stem}.synthetic{_suffix(source)}"
    table_format(target_path)
    _check_not_input(source, target_path)
    config = run.config(rows)
    book = Ledger(run.ledger)
    policies = _load_policies(audit_policy or [], holdout)  # before any budget is spent
    with console.progress_display(not run.quiet) as progress, _printed_warnings():
        result = run_synthesis(
            source, config, schema=run.schema, ledger=book, output=target_path, progress=progress
        )
    for message in result.quality.debug if result.quality else []:
        console.warn(message)
    console.synthesis_summary(result, book)
    if policies:
        folder = report_dir or target_path.with_name(target_path.name + ".report")
        _audit_synthesis(source, result, book, policies, holdout, target, folder)


@app.command()
@_with_run_options
def fit(
    run: RunOptions,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="model file to write (e.g. model.privsynth)")
    ],
    rows: Annotated[
        int | None, typer.Option("--rows", "-n", help="rows `sample` draws by default")
    ] = None,
) -> None:
    """Fit a DP model of INPUT (spends ε from the dataset's budget) and save it; draw rows
    from it later with `privsynth sample`, as often as needed, for free."""
    from privsynth.synthesis import Synthesizer

    _check_model_path(output)
    _check_not_input(run.input_path, output)
    book = Ledger(run.ledger)
    synthesizer = Synthesizer.from_config(run.config(rows), schema=run.schema, ledger=book)
    with console.progress_display(not run.quiet) as progress, _printed_warnings():
        synthesizer.fit(run.input_path, progress=progress)
        progress("saving the model")
        written = synthesizer.save(output)
    assert synthesizer.report is not None
    views.fit_summary(synthesizer.report, written, book)


@app.command()
def sample(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="model file from `privsynth fit`")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV or Parquet file to write")],
    rows: Annotated[
        int | None, typer.Option("--rows", "-n", help="rows to draw (default: the model's)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="seed of the draw (safe: the model is already DP)")
    ] = None,
    ledger: LedgerOption = None,
    quiet: QuietOption = False,
) -> None:
    """Draw synthetic rows from a saved MODEL: post-processing, spends no ε. The output is
    linked to the model's run in the ledger (when the ledger holds that run)."""
    from privsynth.synthesis import Synthesizer

    check_output_path(output)
    book = Ledger(ledger)
    synthesizer = Synthesizer.load(model, ledger=book)  # a bad file fails before any display
    with console.progress_display(not quiet) as progress, _printed_warnings():
        data = synthesizer.sample(rows, seed=seed, output=output, progress=progress)
    assert synthesizer.record is not None and synthesizer.last_sample is not None
    views.sample_summary(synthesizer.record, synthesizer.last_sample, len(data), book)


@app.command()
def lineage(
    subject: Annotated[
        str, typer.Argument(metavar="INPUT_OR_DATASET", help="an input table or a dataset name")
    ],
    ledger: LedgerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Runs that read INPUT (matched by its keyed fingerprint) or DATASET, and the saved
    models and output files made from them: what to regenerate after an erasure request."""
    from privsynth.synthesis import lineage as find_lineage

    book = Ledger(ledger)
    found = find_lineage(book, subject)
    if as_json:
        console.out.print_json(json.dumps([item.to_dict() for item in found]))
        return
    views.lineage_table(found, subject, book)


def _check_not_input(input_path: Path, output: Path) -> None:
    if input_path.exists() and output.resolve() == input_path.resolve():
        raise ConfigurationError(
            "an output would overwrite the input", hint="choose another output path"
        )


def _check_model_path(path: Path) -> None:
    if path.suffix != ".privsynth":
        raise ConfigurationError(
            f"a model file is named *.privsynth, got {path.name}", hint="e.g. -o model.privsynth"
        )
    if path.is_dir():
        raise ConfigurationError(f"{path} is a directory", hint="name a file with -o")


@contextmanager
def _printed_warnings() -> Iterator[None]:
    """PrivsynthWarnings from the library printed as `warning:` lines (with CLI flags)
    once the progress display is gone, as they always were."""
    from privsynth.warnings import PrivsynthWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrivsynthWarning)
        try:
            yield
        finally:
            for item in caught:
                if issubclass(item.category, PrivsynthWarning):
                    console.warn(for_cli(str(item.message)))


def _generator_options(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs; values read as YAML scalars (numbers, booleans, lists)."""
    import yaml

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigurationError(
                f"--option needs KEY=VALUE, got {pair!r}", hint="e.g. --option iterations=300"
            )
        try:
            options[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigurationError(f"--option {key.strip()}: cannot read its value") from None
    return options


def _load_policies(names: list[str], holdout: Path | None) -> list[Policy]:
    from privsynth.compliance.policy import load_policy

    if holdout is not None and not holdout.is_file():
        raise ConfigurationError(f"holdout file {holdout} does not exist", hint="check --holdout")
    return [load_policy(name) for name in names]


def _audit_synthesis(
    input_path: Path,
    result: SynthesisResult,
    book: Ledger,
    policies: list[Policy],
    holdout: Path | None,
    target: str | None,
    folder: Path,
) -> None:
    from privsynth.compliance.audit import AuditInputs
    from privsynth.io import read_rows, read_table

    missing = result.schema.missing_values
    inputs = AuditInputs(
        real=read_rows(input_path, missing).frame, synthetic=result.data,
        holdout=read_table(holdout, missing) if holdout else None, schema=result.schema,
        target=target, sources={"real": input_path, "synthetic": result.output or result.data},
        ledger=book, dataset=result.dataset, run_id=result.run_id,
        privacy_unit=result.privacy_unit.column, text_column=result.fit.text_column,
    )  # fmt: skip
    _audit_and_report(inputs, policies, folder)


def _suffix(path: Path) -> str:
    kept = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".txt")
    return path.suffix.lower() if path.suffix.lower() in kept else ".csv"


@schema_app.command("infer")
def schema_infer(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file")],
    output: Annotated[Path, typer.Option("--output", "-o", help="schema YAML to write")],
    min_count: Annotated[
        int, typer.Option(help="leave out categories held by fewer records")
    ] = DEFAULT_MIN_COUNT,
) -> None:
    """Draft a schema from INPUT for review; every value read from the data is marked."""
    from privsynth.io import read_rows
    from privsynth.schema import dump_schema
    from privsynth.schema.infer import infer_schema

    if min_count < 1:
        raise ConfigurationError(
            f"--min-count must be at least 1, got {min_count}", hint="--min-count 1 keeps all"
        )
    check_writable_file(output)
    read = read_rows(input_path)  # the rows synthesize would use
    if read.malformed_rows or read.undecodable_rows:
        console.warn(
            "rows with another number of fields than the header, or not UTF-8, were left "
            "out of the draft (synthesize leaves them out too)"
        )
    drafted = infer_schema(read.frame, min_count=min_count)
    dump_schema(drafted, output)
    kinds: dict[str, int] = {}
    for spec in drafted.columns.values():
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    console.out.print(f"wrote {output} ({summary})")
    console.warn(
        f"{len(drafted.data_derived_fields())} entries were read from the data and are marked "
        "data_derived: review them before using this schema as a public declaration"
    )


@app.command()
def split(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file")],
    train: Annotated[Path, typer.Option(help="rows to synthesize from (CSV or Parquet)")],
    holdout: Annotated[Path, typer.Option(help="rows kept out, for the audit's attacks")],
    holdout_share: Annotated[float, typer.Option(help="share of units in the holdout")] = 0.2,
    privacy_unit: Annotated[
        str | None, typer.Option(help="column identifying a person: whole persons per side")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the random split")] = None,
) -> None:
    """Split INPUT into training and holdout rows (a person's rows all on one side).

    A custodian's step before synthesis: it reads the private data and writes private
    data; nothing it prints depends on the rows beyond the two files' row counts."""
    from privsynth.evaluation.split import split_holdout
    from privsynth.io import check_output_path, read_table, write_table

    for target in (train, holdout):
        check_output_path(target)
        _check_not_input(input_path, target)
    kept, held = split_holdout(
        read_table(input_path), holdout_share, privacy_unit=privacy_unit, seed=seed
    )
    write_table(kept, train)
    write_table(held, holdout)
    console.out.print(f"wrote {train} ({len(kept):,} rows) and {holdout} ({len(held):,} rows)")


@app.command()
def scrub(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV, Parquet, JSON Lines or .txt")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="scrubbed output (same format)")],
    policy: Annotated[str, typer.Option(help="none or hipaa-safe-harbor")] = "none",
    operator: Annotated[str, typer.Option(help="surrogate, tag, redact or mask")] = "surrogate",
    text_column: Annotated[
        list[str] | None, typer.Option(help="treat this column as free text (repeatable)")
    ] = None,
    text_field: Annotated[str, typer.Option(help="text field of JSON Lines records")] = "text",
    date_mode: Annotated[
        str, typer.Option(help="year (Safe Harbor) or shift (consistent per person; not SH)")
    ] = "year",
    person_column: Annotated[
        str | None, typer.Option(help="column identifying a person (consistent date shifts)")
    ] = None,
    schema: Annotated[
        Path | None, typer.Option(help="schema whose column `role`s override classification")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="PII detector YAML (model, threshold, allow/deny lists)")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="JSON report path (default: OUTPUT.report.json)")
    ] = None,
    n_process: Annotated[int, typer.Option(help="worker processes for detection")] = 1,
    mode: Annotated[
        str | None,
        typer.Option(
            help="precise, or high_recall: also mask every word not known to be safe "
            "(default: high_recall under hipaa-safe-harbor, else precise)"
        ),
    ] = None,
) -> None:
    """Detect and replace PII in a table or in free text; write a JSON report of counts."""
    from privsynth.pii.engine import DetectorConfig
    from privsynth.pii.files import scrub_file
    from privsynth.pii.scrub import Scrubber, ScrubConfig

    detector = DetectorConfig.from_file(config) if config else DetectorConfig()
    scrub_config = ScrubConfig(
        operator=operator, policy=policy, date_mode=date_mode,  # type: ignore[arg-type]
        detector=replace(detector, n_process=n_process),
        text_columns=tuple(text_column) if text_column else None, person_column=person_column,
        mode=mode,
    )  # fmt: skip
    roles = _schema_roles(schema) if schema else None
    check_output_path(output)
    _check_not_input(input_path, output)
    with console.progress_display() as progress:
        progress("loading models and scrubbing")
        result = scrub_file(Scrubber(scrub_config), input_path, output, text_field, roles)
    report_path = report or output.with_name(output.name + ".report.json")
    _write_json(report_path, result.to_dict())
    console.scrub_summary(result, output, report_path)


def _schema_roles(path: Path) -> dict[str, str]:
    from privsynth.schema import load_schema

    return load_schema(path).roles()


RealOption = Annotated[Path, typer.Option(help="the real rows the generator was trained on")]
SyntheticOption = Annotated[Path, typer.Option(help="the synthetic rows")]
HoldoutOption = Annotated[
    Path | None, typer.Option(help="real rows never used for training (privacy controls)")
]
SchemaOption = Annotated[Path | None, typer.Option(help="schema (column kinds and roles)")]
TargetOption = Annotated[str | None, typer.Option(help="column to predict (utility)")]
QuasiIdentifiersOption = Annotated[
    str | None, typer.Option(help="comma-separated quasi-identifier columns")
]
SensitiveOption = Annotated[str | None, typer.Option(help="comma-separated sensitive columns")]
SeedOption = Annotated[int, typer.Option(help="seed of the evaluation's sampling")]
UnitOption = Annotated[
    str | None,
    typer.Option(help="column identifying a person: membership attacks target persons"),
]
TextColumnOption = Annotated[
    str | None,
    typer.Option(help="free-text column: text metrics (labels from --target), not tabular ones"),
]
TextModelOption = Annotated[
    Path | None,
    typer.Option(help="local sentence-transformers directory (default: bundled MiniLM)"),
]


@app.command()
def evaluate(
    real: RealOption,
    synthetic: SyntheticOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="evaluation JSON to write")],
    holdout: HoldoutOption = None,
    schema: SchemaOption = None,
    target: TargetOption = None,
    quasi_identifiers: QuasiIdentifiersOption = None,
    sensitive: SensitiveOption = None,
    seed: SeedOption = 0,
    privacy_unit: UnitOption = None,
    text_column: TextColumnOption = None,
    text_model: TextModelOption = None,
) -> None:
    """Fidelity, utility, detection, diversity and privacy attacks, as one JSON document."""
    from privsynth.evaluation.data import EvaluationData
    from privsynth.evaluation.runner import evaluate as run_evaluation
    from privsynth.evaluation.text.evaluate import evaluate_text_column, tabular_tables

    if output.suffix.lower() != ".json":
        raise ConfigurationError("the evaluation is written as JSON", hint="use -o eval.json")
    check_writable_file(output)
    frames, loaded = _read_tables(real, synthetic, holdout, schema)
    tables = (frames["real"], frames["synthetic"], frames.get("holdout"))
    data = EvaluationData.build(
        *tabular_tables(*tables, text_column, target),
        schema=loaded, target=target, quasi_identifiers=_names(quasi_identifiers),
        sensitive=_names(sensitive), seed=seed, privacy_unit=_unit(privacy_unit, loaded),
    )  # fmt: skip
    with console.progress_display() as progress:
        document = run_evaluation(data, progress=progress)
        if text_column is not None:
            text = evaluate_text_column(
                *tables, text_column, label=target, embedder=text_model, seed=seed,
                progress=progress,
            )  # fmt: skip
            document = replace(document, text=text)
    _write_json(output, document.to_dict())
    console.evaluation_summary(document, output)


def _read_tables(
    real: Path, synthetic: Path, holdout: Path | None, schema: Path | None
) -> tuple[dict[str, pd.DataFrame], Schema | None]:
    """The real, synthetic and (if given) holdout tables, read with the schema's
    missing-value markers, and the loaded schema."""
    from privsynth.io import read_table
    from privsynth.schema import load_schema

    loaded = load_schema(schema) if schema else None
    if loaded is not None:
        _check_schema_columns(loaded, schema or real, real)
    missing = loaded.missing_values if loaded else ("",)
    paths = {"real": real, "synthetic": synthetic, **({"holdout": holdout} if holdout else {})}
    return {name: read_table(path, missing) for name, path in paths.items()}, loaded


def _check_schema_columns(schema: Schema, source: Path, real: Path) -> None:
    """Refuse a schema naming columns the real table lacks (its header only: metadata)."""
    from privsynth.errors import SchemaError
    from privsynth.io import read_header

    header = set(read_header(real))
    unknown = [name for name in schema.columns if name not in header]
    if unknown:
        raise SchemaError(
            f"{source.name} names columns not in {real.name}: {', '.join(unknown)}",
            hint="fix the column names in the schema",
        )


def _unit(option: str | None, schema: Schema | None) -> str | None:
    """The privacy unit: the option, else the schema's ``privacy_unit``."""
    return option or (schema.privacy_unit if schema is not None else None)


def _names(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _write_json(path: Path, document: object) -> None:
    from privsynth.io import atomic_path

    with atomic_path(path) as temp:
        temp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


@app.command()
def audit(
    real: RealOption,
    synthetic: SyntheticOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="report folder")],
    policy: Annotated[list[str], typer.Option(help="policy name or YAML file (repeatable)")],
    holdout: HoldoutOption = None,
    schema: SchemaOption = None,
    target: TargetOption = None,
    quasi_identifiers: QuasiIdentifiersOption = None,
    sensitive: SensitiveOption = None,
    ledger: LedgerOption = None,
    dataset: Annotated[
        str | None, typer.Option(help="dataset in the ledger (privacy accounting)")
    ] = None,
    run_id: Annotated[str | None, typer.Option(help="run id (or prefix) in the ledger")] = None,
    seed: SeedOption = 0,
    privacy_unit: UnitOption = None,
    text_column: TextColumnOption = None,
    text_model: TextModelOption = None,
) -> None:
    """Judge synthetic data against compliance policies; write report.html and report.json.

    Exits with status 5 when a policy fails, so pipelines can gate on it."""
    from privsynth.compliance.audit import AuditInputs
    from privsynth.compliance.policy import load_policy

    policies = [load_policy(name) for name in policy]
    frames, loaded = _read_tables(real, synthetic, holdout, schema)
    inputs = AuditInputs(
        real=frames["real"], synthetic=frames["synthetic"], holdout=frames.get("holdout"),
        schema=loaded, target=target, quasi_identifiers=_names(quasi_identifiers),
        sensitive=_names(sensitive),
        sources={"real": real, "synthetic": synthetic, **({"holdout": holdout} if holdout else {})},
        ledger=Ledger(ledger) if (ledger or dataset) else None,
        dataset=dataset, run_id=run_id, seed=seed, privacy_unit=_unit(privacy_unit, loaded),
        text_column=text_column, text_embedder=text_model,
    )  # fmt: skip
    _audit_and_report(inputs, policies, output)


def _audit_and_report(inputs: AuditInputs, policies: Sequence[Policy], output: Path) -> None:
    from privsynth.compliance.audit import run_audit
    from privsynth.compliance.report import write_report

    with console.progress_display() as progress:
        document, data = run_audit(inputs, policies, progress)
        progress("writing the report")
        json_path, html_path = write_report(document, data, output)
    console.audit_summary(document, html_path, json_path)
    if not document.passed:
        raise typer.Exit(AUDIT_FAILED)


@budget_app.command("set")
def budget_set(
    dataset: Annotated[str, typer.Argument(help="dataset name")],
    epsilon: Annotated[float, typer.Option("--epsilon", "-e", help="total ε for the dataset")],
    delta: Annotated[float, typer.Option(help="total δ for the dataset")] = 1e-6,
    privacy_unit: Annotated[
        str | None,
        typer.Option(help="column identifying a person: runs must protect it (default: a row)"),
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """Set DATASET's total privacy budget (and the unit its ε protects)."""
    book = Ledger(ledger)
    book.set_budget(dataset, epsilon, delta, privacy_unit)
    console.out.print(f"{dataset}: {book.status(dataset).describe()}  [ledger {book.path}]")


@budget_app.command("settings")
def budget_settings(
    require_registered: Annotated[
        bool | None,
        typer.Option(
            "--require-registered/--allow-unregistered",
            help="refuse runs on datasets without a budget set first (for teams)",
            show_default=False,
        ),
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """Show (or change) the ledger's settings."""
    book = Ledger(ledger)
    if require_registered is not None:
        book.set_setting("require_registered", "true" if require_registered else "false")
    for key, value in book.settings().items():
        console.out.print(f"{key}: {value}  [ledger {book.path}]")


@budget_app.command("show")
def budget_show(
    dataset: Annotated[str | None, typer.Argument(help="one dataset (default: all)")] = None,
    ledger: LedgerOption = None,
    spends: Annotated[bool, typer.Option(help="list every itemised spend")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Show budgets, composed spend and runs from the ledger."""
    book = Ledger(ledger)
    names = [dataset] if dataset else book.datasets()
    if as_json:
        console.ledger_json(book, names)
        return
    if not names:
        console.out.print(f"the ledger {book.path} has no datasets yet")
        return
    console.budget_table(book, names)
    if dataset:
        console.runs_table(book, dataset, spends)


def run() -> None:
    """Console-script entry point with fail-closed error handling."""
    from privsynth.xla import prefer_fast_compilation

    prefer_fast_compilation()  # this process is ours: faster XLA compiles for fits on CPUs
    try:
        app()  # usage errors are reported by typer itself (exit code 2)
    except PrivsynthError as exc:
        message = for_cli(exc.one_line())
        console.err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if debug_enabled():
            raise
        console.err.print(
            f"internal error ({type(exc).__name__}); rerun with PRIVSYNTH_DEBUG=1 for details "
            "(the traceback may quote data: do not share it)",
            highlight=False,
            markup=False,
        )
        sys.exit(70)


if __name__ == "__main__":
    run()
