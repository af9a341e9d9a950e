"""Policies as data: each criterion names the measurement it reads, a threshold, a
direction and a citation, so a privacy officer can read, adjust and extend them.

A criterion's ``metric`` is a ``/``-separated path into the audit document (e.g.
``privacy/singling_out/ci/1`` for the upper bound of the singling-out risk). A criterion
may also name ``applies_when``, a path that must be present for it to apply (``text``:
only when a free-text column was evaluated); where that path is absent the criterion is
not applicable and is left out of the verdict, so adding text criteria to a policy
changes nothing for tables without text. Built-in
policies live in the repository's ``policies/`` folder (installed under
``share/privsynth/policies``); any YAML file path works too.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from privsynth.errors import PrivsynthError
from privsynth.evaluation.stats import RiskEstimate, conclusive_growth

Direction = Literal["max", "min"]


class PolicyError(PrivsynthError):
    """A policy file is missing, malformed or names an unknown policy."""


@dataclass(frozen=True)
class Criterion:
    """``value(metric) <= threshold`` (direction max) or ``>= threshold`` (min), judged
    only where the document has ``applies_when`` (always, when empty)."""

    id: str
    metric: str
    threshold: float
    direction: Direction
    citation: str
    description: str = ""
    applies_when: str = ""


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    description: str
    criteria: tuple[Criterion, ...]
    requires_expert_signature: bool = False
    manual_attestations: tuple[str, ...] = ()
    source: str = ""


def policy_dirs() -> list[Path]:
    """Where built-in policies are looked up, in order."""
    found = []
    if os.environ.get("PRIVSYNTH_POLICY_DIR"):
        found.append(Path(os.environ["PRIVSYNTH_POLICY_DIR"]))
    found.append(Path(__file__).resolve().parents[2] / "policies")  # source checkout
    found.append(Path(sys.prefix) / "share" / "privsynth" / "policies")  # installed wheel
    return found


def builtin_policies() -> list[str]:
    """Names of the policies found in :func:`policy_dirs`."""
    names = {p.stem for d in policy_dirs() if d.is_dir() for p in d.glob("*.yaml")}
    return sorted(names)


def load_policy(name_or_path: str | Path) -> Policy:
    """A built-in policy by name, or a policy file by path; validated."""
    path = Path(name_or_path)
    if not path.suffix:
        candidates = [d / f"{name_or_path}.yaml" for d in policy_dirs()]
        path = next((c for c in candidates if c.is_file()), path)
    if not path.is_file():
        raise PolicyError(
            f"unknown policy {str(name_or_path)!r}",
            hint=f"use one of: {', '.join(builtin_policies()) or 'none found'}, or a YAML path",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise PolicyError(f"policy file {path} is not valid UTF-8 YAML") from None
    return _parse(raw, str(path))


def _parse(raw: Any, source: str) -> Policy:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("criteria"), list)
        or not raw["criteria"]
    ):
        raise PolicyError(f"policy {source} needs a non-empty `criteria:` list")
    for key in ("name", "title"):
        if not isinstance(raw.get(key), str):
            raise PolicyError(f"policy {source} needs a `{key}:` string")
    criteria = tuple(_criterion(item, index, source) for index, item in enumerate(raw["criteria"]))
    ids = [c.id for c in criteria]
    if len(set(ids)) != len(ids):
        raise PolicyError(f"policy {source} repeats a criterion id", hint="make ids unique")
    return Policy(
        name=raw["name"],
        title=raw["title"],
        description=str(raw.get("description", "")).strip(),
        criteria=criteria,
        requires_expert_signature=bool(raw.get("requires_expert_signature", False)),
        manual_attestations=tuple(str(a) for a in raw.get("manual_attestations", ())),
        source=source,
    )


def _criterion(item: Any, index: int, source: str) -> Criterion:
    where = f"policy {source}, criterion {index + 1}"
    if not isinstance(item, dict):
        raise PolicyError(f"{where} must be a mapping")
    missing = [k for k in ("id", "metric", "threshold", "direction", "citation") if k not in item]
    if missing:
        raise PolicyError(f"{where} lacks {', '.join(missing)}")
    threshold = item["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise PolicyError(f"{where}: threshold must be a number")
    if not math.isfinite(threshold):
        raise PolicyError(f"{where}: threshold must be finite")
    if item["direction"] not in ("max", "min"):
        raise PolicyError(f"{where}: direction must be 'max' or 'min'")
    if not isinstance(item.get("applies_when", ""), str):
        raise PolicyError(f"{where}: applies_when must be a path such as 'text'")
    return Criterion(
        id=str(item["id"]),
        metric=str(item["metric"]),
        threshold=float(threshold),
        direction=item["direction"],
        citation=str(item["citation"]),
        description=str(item.get("description", "")),
        applies_when=item.get("applies_when", ""),
    )


@dataclass(frozen=True)
class CriterionVerdict:
    """A criterion judged: the value read at its path (None: not measured), its
    threshold and direction, the verdict, and a note on why it failed (if useful)."""

    id: str
    metric: str
    value: float | None
    threshold: float
    direction: Direction
    passed: bool
    citation: str
    description: str = ""
    note: str = ""
    #: for a bound of an attack's risk interval: whether the interval lies on one side
    #: of the threshold, and the sample that would make it do so (:func:`power`)
    power: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PolicyVerdict:
    """A policy judged: it passes when every criterion does. The attestations are what
    a person must still confirm; no automated verdict covers them."""

    name: str
    title: str
    description: str
    criteria: tuple[CriterionVerdict, ...]
    requires_expert_signature: bool = False
    manual_attestations: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "passed": self.passed,
            "criteria": [c.to_dict() for c in self.criteria],
            "requires_expert_signature": self.requires_expert_signature,
            "manual_attestations": list(self.manual_attestations),
        }


def finite_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def lookup(document: dict[str, Any], path: str) -> Any:
    """The value at a ``/``-separated path (list indexes as numbers); None if absent."""
    node: Any = document
    for part in path.split("/"):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


_BOUNDS = ("/ci/1", "/ci/0")
#: the chance of a conclusive verdict that the sample size needed is computed for
POWER = 0.8


def power(criterion: Criterion, document: dict[str, Any]) -> dict[str, Any] | None:
    """For a criterion on a bound of an attack's risk interval: is the interval
    conclusive (wholly on one side of the threshold), and the sample size (holdout
    records, or attacks, per the result's ``details/sample``) that would make it so
    with probability :data:`POWER` were the true rates the observed ones (None: no
    size would; below the current size: the sample had room to spare)."""
    path = next(
        (criterion.metric.removesuffix(b) for b in _BOUNDS if criterion.metric.endswith(b)), None
    )
    node = lookup(document, path) if path else None
    sample = lookup(node, "details/sample") if isinstance(node, dict) else None
    if not isinstance(node, dict) or not isinstance(sample, dict):
        return None
    estimate = _estimate(node, sample)
    if estimate is None:
        return None
    grows = str(sample.get("grows_with", "holdout"))
    growth = conclusive_growth(estimate, criterion.threshold, grows == "attacks", power=POWER)
    size = int(sample.get("size", 0))
    needed = None if growth is None else max(1, math.ceil(size * growth - 1e-9))
    low, high = estimate.ci
    conclusive = high <= criterion.threshold or low > criterion.threshold
    return {
        "conclusive": conclusive, "grows_with": grows, "size": size, "size_needed": needed,
        "power": POWER,
    }  # fmt: skip


def _estimate(node: dict[str, Any], sample: dict[str, Any]) -> RiskEstimate | None:
    """The risk estimate a result's JSON holds, if complete."""
    numbers = [finite_number(node.get(k)) for k in ("risk", "main_rate", "control_rate")]
    trials = [finite_number(sample.get(k)) for k in ("main_trials", "control_trials")]
    ci = node.get("ci")
    bounds = [finite_number(b) for b in ci] if isinstance(ci, list) and len(ci) == 2 else [None]
    if None in numbers or None in trials or None in bounds:
        return None
    risk, main, control, n_main, n_control, low, high = (
        float(x) for x in (*numbers, *trials, *bounds) if x is not None
    )
    return RiskEstimate(risk, (low, high), main, control, 0.0, n_main, n_control)


def _interval_note(
    criterion: Criterion, document: dict[str, Any], found: dict[str, Any] | None
) -> str:
    """Why an upper confidence bound failed although the estimate passes: the sample is
    too small to show the risk is below the threshold (not evidence of a high risk),
    and what sample would show it."""
    if not criterion.metric.endswith("/ci/1"):
        return ""
    estimate = lookup(document, criterion.metric.removesuffix("/ci/1") + "/risk")
    estimate = finite_number(estimate)
    if estimate is None or estimate > criterion.threshold:
        return ""
    return (
        f"inconclusive: the estimate {estimate:.3g} is within the threshold but its 95% "
        f"interval is not; {_needed(found)}"
    )


def _needed(found: dict[str, Any] | None) -> str:
    if found is None:
        return "more holdout (control) records narrow the interval"
    what = "holdout records" if found["grows_with"] == "holdout" else "attacks"
    if found["size_needed"] is None:
        return (
            f"at the observed rates no number of {what} would settle it (the training "
            "records, or an estimate at the threshold, limit it)"
        )
    return (
        f"at the observed rates about {found['size_needed']:,} {what} (now {found['size']:,}) "
        "would make the verdict conclusive"
    )


def applies(criterion: Criterion, document: dict[str, Any]) -> bool:
    """Whether ``criterion`` applies to ``document``: it names no ``applies_when``, or
    the document has a value there (a text criterion applies only to a text audit)."""
    return not criterion.applies_when or lookup(document, criterion.applies_when) is not None


def judge(policy: Policy, document: dict[str, Any]) -> PolicyVerdict:
    """Each applicable criterion's value, threshold and verdict; a missing value fails
    (closed). A criterion whose ``applies_when`` path is absent is not applicable and is
    left out (it neither passes nor fails).

    ``document`` is the audit document in its JSON form (a criterion's ``metric`` is a
    path into it), so a ``report.json`` read back from a file is judged the same way."""
    applicable = (c for c in policy.criteria if applies(c, document))
    return PolicyVerdict(
        name=policy.name,
        title=policy.title,
        description=policy.description,
        criteria=tuple(_verdict(criterion, document) for criterion in applicable),
        requires_expert_signature=policy.requires_expert_signature,
        manual_attestations=policy.manual_attestations,
    )


def _verdict(criterion: Criterion, document: dict[str, Any]) -> CriterionVerdict:
    number = finite_number(lookup(document, criterion.metric))
    found = power(criterion, document)
    if number is None:
        passed, note = False, "not measured (fails closed)"
    elif criterion.direction == "max":
        passed = number <= criterion.threshold
        note = "" if passed else _interval_note(criterion, document, found)
    else:
        passed, note = number >= criterion.threshold, ""
    return CriterionVerdict(
        id=criterion.id, metric=criterion.metric, value=number,
        threshold=criterion.threshold, direction=criterion.direction, passed=bool(passed),
        citation=criterion.citation, description=criterion.description, note=note,
        power=found,
    )  # fmt: skip
