"""Building a synthesis run: configuration, the plan made from the header alone, the
fit that spends the budget, sampling that is free post-processing, saved models and
lineage."""

from privsynth.synthesis.config import DISCOVERY_SHARE, SEEDED_RUN, SynthesisConfig
from privsynth.synthesis.lineage import RunLineage, lineage
from privsynth.synthesis.plan import resolve_schema
from privsynth.synthesis.records import FitRecord, FitReport, SampleReport, SynthesisResult
from privsynth.synthesis.run import run_synthesis
from privsynth.synthesis.synthesizer import Synthesizer

__all__ = [
    "DISCOVERY_SHARE",
    "SEEDED_RUN",
    "FitRecord",
    "FitReport",
    "RunLineage",
    "SampleReport",
    "SynthesisConfig",
    "SynthesisResult",
    "Synthesizer",
    "lineage",
    "resolve_schema",
    "run_synthesis",
]
