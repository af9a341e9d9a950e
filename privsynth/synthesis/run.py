"""A one-shot run: fit, then draw one table (and write it). What
``privsynth.synthesize`` and ``privsynth synthesize`` do, built on :class:`Synthesizer`."""

from __future__ import annotations

from pathlib import Path

from privsynth.generators import ProgressCallback
from privsynth.generators.base import no_progress
from privsynth.io import check_output_path
from privsynth.synthesis.config import SynthesisConfig
from privsynth.synthesis.plan import SchemaSource, Source
from privsynth.synthesis.records import SynthesisResult
from privsynth.synthesis.synthesizer import LedgerSource, Synthesizer


def run_synthesis(
    source: Source,
    config: SynthesisConfig,
    *,
    schema: SchemaSource = None,
    ledger: LedgerSource = None,
    output: str | Path | None = None,
    progress: ProgressCallback = no_progress,
) -> SynthesisResult:
    """Fit on ``source`` under ``config`` (recorded in ``ledger``) and draw the configured
    number of rows; with ``output``, write them (checked before anything is spent)."""
    synthesizer = Synthesizer.from_config(config, schema=schema, ledger=ledger)
    if output is not None:
        check_output_path(output)
    synthesizer.fit(source, progress=progress)
    data = synthesizer.sample(output=output, progress=progress)
    assert synthesizer.report is not None and synthesizer.last_sample is not None
    return SynthesisResult(data, synthesizer.report, synthesizer.last_sample)
