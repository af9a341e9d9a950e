"""Code columns of real health tables: roles from evidence, codes as categories (issue 12).

An encounter-like table built on real NY SPARCS discharges (examples/sparcs_sample.csv):
integer code columns named ``*_id``, ICD-9-CM and ICD-10-CM codes (numeric, decimal,
V and E codes), ZIPs with leading zeros, long category labels, a unique encounter id
and a free-text note. Headers are hints; the DP evidence decides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privsynth import Ledger, SynthesisConfig, run_synthesis
from privsynth.domain.codecs import INVALID
from privsynth.domain.discovery import OTHER_LABEL, discover
from privsynth.domain.suppressed import resample_suppressed
from privsynth.domain.table import build_codecs
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.schema import CategoricalSpec, IdentifierSpec, NumericSpec, Schema, TextSpec
from privsynth.schema.infer import infer_schema
from privsynth.synthesis import resolve_schema

#: real ICD-9-CM codes as hospital extracts write them (decimal, category, V and E codes)
ICD9 = ("250.83", "428", "V57", "E885", "715.16", "038.9", "486", "V58.11", "414.01", "584.9")
ICD10 = ("E11.9", "I50.9", "M17.11", "S72.001A", "J18.9", "N17.9")
ZIPS = ("02134", "01027", "00501", "10021", "06511")
RHO, DELTA = 5.0, 1e-8


@pytest.fixture(scope="module")
def encounters(sparcs_frame: pd.DataFrame) -> pd.DataFrame:
    real = sparcs_frame.head(3000)
    rng = np.random.default_rng(12)
    codes = {
        label: str(i + 1) for i, label in enumerate(sorted(real["Payment.Typology.1"].unique()))
    }
    frame = pd.DataFrame(
        {
            "encounter_id": [str(100_000 + 17 * i) for i in range(len(real))],
            "admission_type_id": real["Payment.Typology.1"].map(codes),
            "facility_id": rng.choice(["1169", "1172", "541", "3058", "1439"], len(real)),
            "diag_1": rng.choice(ICD9, len(real), p=_zipf(len(ICD9))),
            "diag_icd10": rng.choice(ICD10, len(real)),
            "zip": rng.choice(ZIPS, len(real)),
            "CCSR.Diagnosis.Description": real["CCSR.Diagnosis.Description"],
            "los": real["los"],
            "note": [
                f"pt admitted {i} times, stable overnight, plan per team {i * 7}"
                for i in range(len(real))
            ],
        }
    )
    return frame


def _zipf(n: int) -> list[float]:
    weights = 1.0 / np.arange(1, n + 1)
    return list(weights / weights.sum())


def _discovered(frame: pd.DataFrame, seed: int = 3) -> dict[str, object]:
    schema, _ = resolve_schema(None, list(frame.columns), strict=False)
    mechanisms = Mechanisms(PrivacyFilter(cost_of.zcdp(RHO, DELTA)), NoiseSource(seed))
    found, _ = discover(frame, schema, mechanisms, RHO, DELTA)
    return dict(found.columns)


def test_headers_are_hints_and_values_decide(encounters: pd.DataFrame) -> None:
    specs = _discovered(encounters)
    for code in ("admission_type_id", "facility_id", "diag_1", "diag_icd10", "zip"):
        assert isinstance(specs[code], CategoricalSpec), (code, specs[code])
    assert isinstance(specs["encounter_id"], IdentifierSpec)  # unique: an identifier
    assert isinstance(specs["note"], TextSpec)
    labels = specs["CCSR.Diagnosis.Description"]
    assert isinstance(labels, CategoricalSpec)  # long labels, few of them: not text
    assert isinstance(specs["los"], NumericSpec)


def test_codes_keep_their_spelling(encounters: pd.DataFrame) -> None:
    specs = _discovered(encounters)
    diag = specs["diag_1"]
    assert isinstance(diag, CategoricalSpec)
    assert {"250.83", "428", "V57"} <= set(diag.categories or ())  # never rounded or lost
    zips = specs["zip"]
    assert isinstance(zips, CategoricalSpec) and "02134" in (zips.categories or ())


def test_the_decisions_hold_for_other_noise_draws(encounters: pd.DataFrame) -> None:
    for seed in range(5):
        specs = _discovered(encounters[["admission_type_id", "encounter_id"]], seed=seed)
        assert isinstance(specs["admission_type_id"], CategoricalSpec)
        assert isinstance(specs["encounter_id"], IdentifierSpec)


@pytest.fixture(scope="module")
def synthesized(encounters: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = tmp_path_factory.mktemp("encounters")
    source = folder / "encounters.csv"
    encounters.to_csv(source, index=False)
    config = SynthesisConfig(
        epsilon=2.0, generator="mst", dataset="encounters", suppressed="resample"
    )
    return run_synthesis(source, config, ledger=Ledger(folder / "ledger.db"))


def test_unmodelled_columns_are_listed_with_the_line_that_changes_them(synthesized: object) -> None:
    result = synthesized
    unmodelled = result.unmodelled()  # type: ignore[attr-defined]
    assert set(unmodelled) == {"encounter_id", "note"}
    assert "`encounter_id: {kind: categorical}`" in unmodelled["encounter_id"]
    assert "identifier" in unmodelled["encounter_id"]
    warnings = " ".join(result.warnings)  # type: ignore[attr-defined]
    assert "'encounter_id' is not modelled" in warnings


def test_resampled_output_holds_no_suppressed_category(synthesized: object) -> None:
    data: pd.DataFrame = synthesized.data  # type: ignore[attr-defined]
    for column in data.columns:
        assert not (data[column].astype(str) == OTHER_LABEL).any(), column
    assert set(data["admission_type_id"].dropna()) <= {str(i) for i in range(1, 20)}
    report = synthesized.suppressed  # type: ignore[attr-defined]
    assert report is not None and report.mode == "resample"
    assert report.rows_redrawn <= report.rows_with_other


def test_resampling_replaces_rows_then_cells_and_counts_them() -> None:
    """Rows holding a suppressed code are drawn again from the model (here a fixed
    distribution in which 40% of rows hold one); the counts add up."""
    other = {"a": 3, "b": 2}
    rng = np.random.default_rng(0)

    def draw(n: int) -> dict[str, np.ndarray]:
        return {"a": rng.choice(4, n, p=[0.2, 0.2, 0.2, 0.4]), "b": rng.choice(3, n)}

    codes = draw(1000)
    before = int(((codes["a"] == 3) | (codes["b"] == 2)).sum())
    out, report = resample_suppressed(codes, other, draw, rng)
    assert report.rows_with_other == before > 0
    assert not (out["a"] == 3).any() and not (out["b"] == 2).any()
    assert report.rows_redrawn == before  # fresh rows were plentiful: no cell redrawn
    assert report.cells_redrawn == 0
    stingy, stingy_report = resample_suppressed(codes, other, lambda n: draw(0), rng)
    assert not (stingy["a"] == 3).any() and stingy_report.cells_redrawn >= before


def test_icd9_codes_are_modelled_through_their_hierarchy(encounters: pd.DataFrame) -> None:
    """Frequent codes are released as written, rare ones reach the model as their
    category or chapter; nothing becomes <other>, no code is invented."""
    frame = encounters[["diag_1", "los"]].copy()
    rare = ["250.01", "250.02", "250.03", "250.13", "250.22"] * 4  # each rare, 250 is not
    frame.loc[frame.index[: len(rare)], "diag_1"] = rare
    frame.loc[frame.index[len(rare)], "diag_1"] = "E849.7"  # a one-off E code
    schema = Schema(
        {
            "diag_1": CategoricalSpec(code_system="icd9cm"),
            "los": NumericSpec(min=1, max=120, integer=True),
        }
    )
    mechanisms = Mechanisms(PrivacyFilter(cost_of.zcdp(0.5, DELTA)), NoiseSource(4))
    found, _ = discover(frame, schema, mechanisms, 0.5, DELTA)
    diag = found["diag_1"]
    assert isinstance(diag, CategoricalSpec) and diag.other_label is None
    nodes = set(diag.categories or ())
    assert "250.83" in nodes and "428" in nodes  # frequent codes, as written
    assert "250" in nodes and "250.01" not in nodes  # rare codes, through their category
    assert "E849.7" not in nodes and "E000-E999" in nodes  # a one-off: only its chapter
    codec = build_codecs(found)["diag_1"]
    labels = np.array(codec.labels(), dtype=object)
    encoded = labels[codec.encode(frame["diag_1"])]
    assert set(encoded[: len(rare)]) == {"250"}
    assert encoded[len(rare)] == "E000-E999"
    assert set(encoded[len(rare) + 1 :]) <= set(ICD9)  # frequent codes stay themselves
    assert "<other>" not in codec.labels()


def test_values_that_are_no_code_are_invalid_not_other() -> None:
    codec = build_codecs(
        Schema({"dx": CategoricalSpec(code_system="icd10cm", categories=("E11.9",), nullable=True)})
    )["dx"]
    codes = codec.encode(pd.Series(["E11.9", "e119", "E11.65", "banana", None]))
    labels = codec.labels()
    assert [labels[c] for c in codes[:3]] == ["E11.9", "E11.9", "E00-E89"]
    assert codes[3] == INVALID and labels[codes[4]] == "<missing>"


def test_schema_infer_drafts_codes_as_categories_and_names_the_code_system(
    encounters: pd.DataFrame,
) -> None:
    drafted = infer_schema(encounters)
    assert drafted["encounter_id"].kind == "identifier"
    for code in ("admission_type_id", "facility_id", "zip"):
        assert drafted[code].kind == "categorical", code
    diag = drafted["diag_1"]
    assert isinstance(diag, CategoricalSpec) and diag.code_system == "icd9cm"
    assert diag.categories is None and "code_system" in diag.data_derived  # no values listed
    icd10 = drafted["diag_icd10"]
    assert isinstance(icd10, CategoricalSpec) and icd10.code_system == "icd10cm"
    assert drafted["CCSR.Diagnosis.Description"].kind == "categorical"
    assert drafted["note"].kind == "text" and drafted["los"].kind == "numeric"
