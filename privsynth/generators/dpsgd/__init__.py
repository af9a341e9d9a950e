"""``dpsgd``: a DP autoregressive model of the columns trained with DP-SGD.

For tables that marginal methods handle badly (many columns, high-cardinality or
finely binned numeric columns): a MADE network (Germain et al. 2015, "MADE: Masked
Autoencoder for Distribution Estimation") gives every column a softmax conditioned on
the columns before it, trained with DP-SGD (Abadi et al. 2016, "Deep Learning with
Differential Privacy") through Opacus (Yousefpour et al. 2021): per-row clipping,
Poisson sampling at the public rate ``sample_rate`` and Gaussian noise. Sampling draws
column after column (numpy only: post-processing).

Privacy. Only public hyper-parameters decide the cost: ``steps = ceil(epochs /
sample_rate)`` subsampled Gaussian steps whose noise multiplier is calibrated in
:meth:`DPSGD.planned_cost` so that the run's earlier spends, a Gaussian count of the
rows (``count_share`` of the budget, for :attr:`DPSGD.estimated_rows` and the expected
batch ``q * n``) and the training compose to (ε, δ). The expected batch is ``q * n``;
``sample_rate`` is never derived from the private row count. DP-SGD's subsampling
analysis protects single rows: a privacy unit with several rows per person is refused
(:meth:`~privsynth.dp.mechanisms.Mechanisms.subsampled_gaussian`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.accounting import PrivacyCost
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.mechanisms import Mechanisms, sigma_for_rho
from privsynth.errors import ConfigurationError
from privsynth.generators.base import (
    GENERATORS,
    Generator,
    GeneratorState,
    ProgressCallback,
    no_progress,
)
from privsynth.generators.dpsgd.made import Architecture, Array, sample_codes

_INSTALL_HINT = "install the DP-SGD extra: pip install 'privsynth[dpsgd]'"
_DEVICES = ("auto", "cpu", "cuda")


def _positive(name: str, value: float, upper: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"dpsgd's `{name}` must be a number, got {value!r}")
    if not 0 < value <= upper or not math.isfinite(value):
        raise ConfigurationError(
            f"dpsgd's `{name}` must be in (0, {upper:g}], got {value!r}",
            hint=f"choose a positive `{name}`",
        )
    return float(value)


def _widths(hidden: Any) -> tuple[int, ...]:
    widths = tuple(hidden) if isinstance(hidden, list | tuple) else (hidden,)
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
        raise ConfigurationError(
            f"dpsgd's `hidden` must be positive layer widths, got {hidden!r}",
            hint="e.g. hidden=[256, 256]",
        )
    return widths


@GENERATORS.register("dpsgd")
class DPSGD(Generator):
    """A MADE autoregressive model of the codes, trained with DP-SGD (Opacus)."""

    name = "dpsgd"
    costs = ("gaussian", "subsampled_gaussian")
    rows_only = True

    def __init__(
        self,
        epochs: float = 8.0,
        sample_rate: float = 0.01,
        max_grad_norm: float = 1.0,
        lr: float = 3e-3,
        hidden: list[int] | tuple[int, ...] = (256, 256),
        count_share: float = 0.01,
        order: str = "schema",
        device: str = "auto",
        threads: int | None = 1,
    ) -> None:
        self.epochs = _positive("epochs", epochs)
        self.sample_rate = _positive("sample_rate", sample_rate, 1.0)
        self.max_grad_norm = _positive("max_grad_norm", max_grad_norm)
        self.lr = _positive("lr", lr)
        self.hidden = _widths(hidden)
        self.count_share = _positive("count_share", count_share, 0.5)
        if order not in ("schema", "size"):
            raise ConfigurationError(
                f"dpsgd's `order` must be 'schema' or 'size', got {order!r}",
                hint="'size' models small domains first",
            )
        if device not in _DEVICES:
            raise ConfigurationError(
                f"dpsgd's `device` must be one of {', '.join(_DEVICES)}, got {device!r}"
            )
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ConfigurationError(
                f"dpsgd's `threads` must be a positive integer, got {threads!r}"
            )
        self.order, self.device, self.threads = order, device, threads
        self.steps = math.ceil(self.epochs / self.sample_rate - 1e-9)
        self.sigma: float | None = None
        self.count_sigma: float | None = None
        self.delta: float | None = None
        self.opacus_epsilon: float | None = None
        self._total = 1.0
        self._columns: list[str] = []
        self._arch: Architecture | None = None
        self._weights: dict[str, Array] = {}

    # privacy ----------------------------------------------------------------------------

    def planned_cost(
        self, epsilon: float, delta: float, spent_before: PrivacyCost
    ) -> PrivacyCost | None:
        """A Gaussian row count (``count_share`` of the zCDP budget) then ``steps``
        subsampled Gaussian steps, whose noise multiplier makes the composition with
        ``spent_before`` (ε, δ)-DP."""
        count_sigma = sigma_for_rho(self.count_share * rho_for_epsilon(epsilon, delta))
        planned = cost_of.dpsgd_with_count(
            epsilon, delta, spent_before, count_sigma, self.sample_rate, self.steps
        )
        self.count_sigma, self.sigma, self.delta = planned.count_sigma, planned.sigma, delta
        return planned.cost

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "epochs": self.epochs, "sample_rate": self.sample_rate, "steps": self.steps,
            "sigma": self.sigma, "max_grad_norm": self.max_grad_norm, "lr": self.lr,
            "hidden": list(self.hidden), "count_share": self.count_share,
            "count_sigma": self.count_sigma, "order": self.order, "device": self.device,
            "threads": self.threads,
        }  # fmt: skip
        if self.opacus_epsilon is not None:
            params["opacus_epsilon"] = self.opacus_epsilon
        return params

    @property
    def estimated_rows(self) -> int:
        return max(1, round(self._total))

    # fitting ----------------------------------------------------------------------------

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        """``rho`` is ignored: the cost was planned in :meth:`planned_cost`."""
        if self.sigma is None or self.count_sigma is None or self.delta is None:
            raise ConfigurationError(
                "dpsgd's cost must be planned before it is fitted",
                hint="fit it through Synthesizer, which plans and reserves the cost",
            )
        if not table.codecs:
            raise ConfigurationError("dpsgd needs at least one modelled column")
        training = _training_module()
        noise = mechanisms.subsampled_gaussian(
            self.sigma, self.sample_rate, self.steps, "dpsgd: training"
        )
        rng = noise.numpy_generator()
        rows = len(next(iter(table.codes.values())))
        count_rho = 1.0 / (2.0 * self.count_sigma**2)
        released = mechanisms.gaussian_counts(np.array([rows]), count_rho, "dpsgd: row count")
        self._total = max(1.0, float(released.values[0]))
        self._columns = self._ordered(table)
        self._arch = Architecture(tuple(table.sizes[c] for c in self._columns), self.hidden)
        codes = np.stack([np.asarray(table.codes[c]) for c in self._columns], axis=1)
        plan = training.TrainingPlan(
            self.sigma, self.sample_rate, self.steps, self.max_grad_norm, self.lr,
            self.sample_rate * self._total, _device(self.device), self.delta,
        )  # fmt: skip
        seeds = (int(rng.integers(2**62)), int(rng.integers(2**62)))
        per_epoch = max(1, round(1.0 / self.sample_rate))

        def report(done: int) -> None:
            epoch = math.ceil(done / per_epoch)
            progress(f"dpsgd: epoch {epoch}/{math.ceil(self.epochs)}, {done}/{self.steps} steps")

        with training.cpu_threads(self.threads):
            result = training.train(
                self._arch, self._arch.initial_weights(rng), codes.astype(np.int64), plan,
                seeds, report,
            )  # fmt: skip
        self._weights, self.opacus_epsilon = result.weights, result.opacus_epsilon

    def _ordered(self, table: EncodedTable) -> list[str]:
        columns = list(table.codecs)
        if self.order == "size":
            columns.sort(key=lambda c: table.sizes[c])  # stable: schema order among ties
        return columns

    # sampling and saving ----------------------------------------------------------------

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        if self._arch is None:
            raise RuntimeError("DPSGD.sample called before fit")
        codes = sample_codes(self._arch, self._weights, rows, rng)
        return {c: codes[:, j] for j, c in enumerate(self._columns)}

    def state_dict(self) -> GeneratorState:
        """Hyper-parameters, the architecture and the trained weights (DP output)."""
        if self._arch is None:
            raise ConfigurationError("dpsgd has not been fitted: nothing to save")
        values = {
            **self.params(), "delta": self.delta, "columns": self._columns,
            "total": self._total, "architecture": self._arch.to_json(),
        }  # fmt: skip
        arrays: dict[str, npt.NDArray[Any]] = dict(self._weights)
        return GeneratorState(values, arrays)

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> DPSGD:
        values = state.values
        model = cls(
            float(values["epochs"]), float(values["sample_rate"]),
            float(values["max_grad_norm"]), float(values["lr"]),
            [int(h) for h in values["hidden"]], float(values["count_share"]),
            str(values["order"]), str(values["device"]), values.get("threads"),
        )  # fmt: skip
        for name in ("sigma", "count_sigma", "delta", "opacus_epsilon"):
            found = values.get(name)
            setattr(model, name, None if found is None else float(found))
        model._total = float(values["total"])
        model._columns = [str(c) for c in values["columns"]]
        model._arch = Architecture.from_json(values["architecture"])
        shapes = model._arch.shapes()
        for name, shape in shapes.items():
            weight = np.asarray(state.arrays[name], dtype=np.float32)
            if weight.shape != shape:
                raise ValueError(f"dpsgd weight {name} has shape {weight.shape}, not {shape}")
            model._weights[name] = weight
        return model


def _training_module() -> Any:
    """The torch/Opacus half, imported only when fitting."""
    try:
        from privsynth.generators.dpsgd import training
    except ImportError:
        raise ConfigurationError(
            "the dpsgd generator needs torch and opacus to fit",
            hint=_INSTALL_HINT,
        ) from None
    return training


def _device(requested: str) -> str:
    """The torch device: ``auto`` takes a GPU when one is present."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError("dpsgd's `device` is 'cuda' but no GPU is available")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested
