"""Building a synthesis run: configuration, the plan made from the header alone, the
fit that spends the budget, and sampling that is free post-processing."""

from privsynth.synthesis.pipeline import (
    DISCOVERY_SHARE,
    SEEDED_RUN,
    SynthesisConfig,
    SynthesisResult,
    resolve_schema,
    run_synthesis,
)

__all__ = [
    "DISCOVERY_SHARE",
    "SEEDED_RUN",
    "SynthesisConfig",
    "SynthesisResult",
    "resolve_schema",
    "run_synthesis",
]
