"""Safe Harbor checks on a real output: every identifier type scanned is reported (zero
when none is found), so a policy never reads "not measured" for a clean scan."""

from __future__ import annotations

import pandas as pd

from privsynth.compliance.checks import compliance_checks
from privsynth.pii.entities import HIPAA_IDENTIFIER


def test_clean_output_reports_zero_for_every_identifier_type() -> None:
    output = pd.DataFrame(
        {
            "native-country": ["United-States", "Mexico", "Puerto-Rico"] * 5,
            "age": [34, 51, 92] * 5,
            "zip": ["021", "036", "10027"] * 5,
        }
    )
    checks = compliance_checks(output)
    residual = checks.residual_pii
    assert set(HIPAA_IDENTIFIER) <= set(residual)
    assert residual["LOCATION"] == 0  # countries and state-equivalents are allowed
    assert residual["PERSON"] == 0
    structure = checks.safe_harbor
    assert structure.age_violations == 5  # 92, five times
    assert structure.zip_violations == 10  # restricted 036 and a full ZIP
    assert checks.residual_cells_scanned > 0
    assert checks.to_dict()["safe_harbor"]["age_violations"] == 5  # report.json's form


def test_a_city_in_the_output_is_counted() -> None:
    output = pd.DataFrame({"note": ["Seen at clinic in Springfield, Illinois on follow-up."] * 3})
    assert compliance_checks(output).residual_pii["LOCATION"] == 3
