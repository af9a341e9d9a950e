"""``TextGenerator``: a language model fine-tuned with DP-SGD on scrubbed documents, then
sampled (optionally conditioned on a control prefix such as the medical specialty).

Privacy. Only public hyper-parameters decide the cost, planned before any document is
read (:meth:`TextGenerator.planned_cost`): a Gaussian count of the documents
(``count_share`` of the budget; it sets the expected batch ``q * n`` and the default
number of documents to draw) and ``steps = ceil(epochs / sample_rate)`` subsampled
Gaussian steps whose noise multiplier makes everything the run spent before and these
compose to (ε, δ). The privacy unit is one document; a table with a privacy unit gives
the text model one document per person, so the guarantee protects the person. The
vocabulary, the frozen weights and the control prefixes are public; what training
leaves (the trainable weights: a small transformer or LoRA adapters) is DP output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from privsynth.dp.accounting import PrivacyCost
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.mechanisms import Mechanisms, sigma_for_rho
from privsynth.errors import ConfigurationError
from privsynth.generators.base import GeneratorState, ProgressCallback, no_progress
from privsynth.text.models import TEXT_MODELS, TextModel

_INSTALL_HINT = "install the text extra: pip install 'privsynth[text]'"
_DEVICES = ("auto", "cpu", "cuda")
#: the default model (trains on CPU in minutes)
DEFAULT_TEXT_MODEL = "small"


def _number(name: str, value: Any, low: float, high: float, *, open_low: bool = True) -> float:
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not (low < value <= high if open_low else low <= value <= high):
        raise ConfigurationError(
            f"the text generator's `{name}` must be a number in "
            f"{'(' if open_low else '['}{low:g}, {high:g}], got {value!r}"
        )
    return float(value)


def model_factory(model: str) -> tuple[str, dict[str, Any]]:
    """The registered text model and its options for ``model``: a registered name
    (``small``, ``smollm2``) or a local Hugging Face model folder (``hf`` with that path)."""
    if model in TEXT_MODELS.names():
        return model, {}
    if "/" in model or model.startswith("."):
        return "hf", {"path": model}
    TEXT_MODELS.get(model)  # a clear error listing the registered names
    raise AssertionError


class TextGenerator:
    """DP-SGD fine-tuning of a causal language model on documents, then sampling."""

    name = "dpsgd-text"
    costs = ("gaussian", "subsampled_gaussian")

    def __init__(
        self,
        model: str = DEFAULT_TEXT_MODEL,
        model_options: dict[str, Any] | None = None,
        epochs: float = 10.0,
        sample_rate: float = 0.1,
        max_grad_norm: float = 1.0,
        lr: float = 3e-3,
        count_share: float = 0.01,
        temperature: float = 1.0,
        top_p: float = 1.0,
        physical_batch: int = 64,
        device: str = "auto",
    ) -> None:
        self.model_name, found_options = model_factory(model)
        self.model_options = {**found_options, **(model_options or {})}
        self.epochs = _number("epochs", epochs, 0.0, 1e4)
        self.sample_rate = _number("sample_rate", sample_rate, 0.0, 1.0)
        self.max_grad_norm = _number("max_grad_norm", max_grad_norm, 0.0, 1e6)
        self.lr = _number("lr", lr, 0.0, 10.0)
        self.count_share = _number("count_share", count_share, 0.0, 0.5)
        self.temperature = _number("temperature", temperature, 0.0, 10.0)
        self.top_p = _number("top_p", top_p, 0.0, 1.0)
        self.physical_batch = int(_number("physical_batch", physical_batch, 0.0, 1e5))
        if device not in _DEVICES:
            raise ConfigurationError(
                f"the text generator's `device` must be one of {', '.join(_DEVICES)}, "
                f"got {device!r}"
            )
        self.device = device
        self.steps = math.ceil(self.epochs / self.sample_rate - 1e-9)
        self.sigma: float | None = None
        self.count_sigma: float | None = None
        self.delta: float | None = None
        self.opacus_epsilon: float | None = None
        self._documents = 1.0
        self._model: TextModel | None = None

    # privacy ----------------------------------------------------------------------------

    def planned_cost(self, epsilon: float, delta: float, spent_before: PrivacyCost) -> PrivacyCost:
        """A Gaussian document count then the training steps, composing with
        ``spent_before`` to (``epsilon``, ``delta``)."""
        count_sigma = sigma_for_rho(self.count_share * rho_for_epsilon(epsilon, delta))
        planned = cost_of.dpsgd_with_count(
            epsilon, delta, spent_before, count_sigma, self.sample_rate, self.steps
        )
        self.count_sigma, self.sigma, self.delta = planned.count_sigma, planned.sigma, delta
        return planned.cost

    @property
    def estimated_documents(self) -> int:
        """The DP count of training documents (what a default draw produces)."""
        return max(1, round(self._documents))

    def params(self) -> dict[str, Any]:
        params = {
            "model": self.model_name, "model_options": self.model_options,
            "epochs": self.epochs, "sample_rate": self.sample_rate, "steps": self.steps,
            "sigma": self.sigma, "max_grad_norm": self.max_grad_norm, "lr": self.lr,
            "count_share": self.count_share, "count_sigma": self.count_sigma,
            "temperature": self.temperature, "top_p": self.top_p,
            "physical_batch": self.physical_batch, "device": self.device,
        }  # fmt: skip
        if self.opacus_epsilon is not None:
            params["opacus_epsilon"] = self.opacus_epsilon
        return params

    # fitting ----------------------------------------------------------------------------

    def build_model(self) -> TextModel:
        """The configured model, untrained (pretrained parts loaded from local files)."""
        factory = TEXT_MODELS.get(self.model_name)
        try:
            return factory(**self.model_options)
        except TypeError:
            names = ", ".join(sorted(self.model_options))
            raise ConfigurationError(
                f"text model {self.model_name!r} does not accept these options: {names}"
            ) from None

    def prepare(self) -> TextModel:
        """Build the model now (before any budget is reserved: a bad option or a missing
        model file fails here, for free)."""
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def fit(
        self,
        documents: list[str],
        conditions: list[str],
        mechanisms: Mechanisms,
        progress: ProgressCallback = no_progress,
        condition_space: list[str] | None = None,
    ) -> None:
        """Train on ``documents`` (already scrubbed), each after its control prefix
        ``conditions[i]`` (public category labels; "" for none). ``condition_space``: every
        condition that may occur, from public knowledge only (the categories of the
        condition columns), never from the rows; a model may give each its own code."""
        if self.sigma is None or self.count_sigma is None or self.delta is None:
            raise ConfigurationError(
                "the text generator's cost must be planned before it is fitted",
                hint="fit it through Synthesizer, which plans and reserves the cost",
            )
        training = _training_module()
        model = self.prepare()
        if condition_space:
            model.use_conditions(condition_space)
        noise = mechanisms.subsampled_gaussian(
            self.sigma, self.sample_rate, self.steps, "text: DP-SGD training"
        )
        rng = noise.numpy_generator()
        count_rho = 1.0 / (2.0 * self.count_sigma**2)
        released = mechanisms.gaussian_counts(
            np.array([len(documents)]), count_rho, "text: document count"
        )
        self._documents = max(1.0, float(released.values[0]))
        _, end, pad = model.special_ids
        examples = training.Examples.build(
            [model.prompt(c) for c in conditions], model.encode(documents), end, pad,
            model.context,
        )  # fmt: skip
        plan = training.TextTrainingPlan(
            self.sigma, self.sample_rate, self.steps, self.max_grad_norm, self.lr,
            self.sample_rate * self._documents, self.physical_batch, _device(self.device),
            self.delta,
        )  # fmt: skip
        per_epoch = max(1, round(1.0 / self.sample_rate))

        def report(done: int) -> None:
            epoch = math.ceil(done / per_epoch)
            progress(f"text: epoch {epoch}/{math.ceil(self.epochs)}, {done}/{self.steps} steps")

        seeds = (int(rng.integers(2**62)), int(rng.integers(2**62)))
        self.opacus_epsilon = training.train(model, examples, plan, seeds, report)
        self._model = model

    # sampling ---------------------------------------------------------------------------

    def _fitted(self) -> TextModel:
        if self._model is None:
            raise ConfigurationError("the text generator is not fitted yet")
        return self._model

    def sample(
        self,
        conditions: list[str],
        rng: np.random.Generator,
        progress: Callable[[int], None] = lambda _: None,
    ) -> list[str]:
        """One document (with placeholders) per control prefix in ``conditions``."""
        from privsynth.text.sampling import SamplingSettings, draw_documents

        model = self._fitted()
        settings = SamplingSettings(self.temperature, self.top_p, max(8, self.physical_batch))
        prompts = [model.prompt(c) for c in conditions]
        drawn = draw_documents(model, prompts, rng, settings, progress)
        return [model.decode(ids) for ids in drawn]

    def log_likelihood(self, texts: list[str], conditions: list[str]) -> list[float]:
        """Each text's log-likelihood after its prefix (canary exposure)."""
        from privsynth.text.sampling import log_likelihoods

        model = self._fitted()
        return log_likelihoods(model, [model.prompt(c) for c in conditions], texts)

    # saving -----------------------------------------------------------------------------

    def state_dict(self) -> GeneratorState:
        """Hyper-parameters, the model description and the trained weights (DP output)."""
        model = self._fitted()
        values = {
            **self.params(), "delta": self.delta, "documents": self._documents,
            "model_config": model.config(),
        }  # fmt: skip
        return GeneratorState(values, dict(model.trainable_state()))

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> TextGenerator:
        values = state.values
        generator = cls(
            str(values["model"]), dict(values["model_config"]), float(values["epochs"]),
            float(values["sample_rate"]), float(values["max_grad_norm"]), float(values["lr"]),
            float(values["count_share"]), float(values["temperature"]),
            float(values["top_p"]), int(values["physical_batch"]), str(values["device"]),
        )  # fmt: skip
        for name in ("sigma", "count_sigma", "delta", "opacus_epsilon"):
            found = values.get(name)
            setattr(generator, name, None if found is None else float(found))
        generator._documents = float(values["documents"])
        model = generator.build_model()
        model.load_trainable_state(dict(state.arrays))
        generator._model = model
        return generator


def _training_module() -> Any:
    """The torch/Opacus half, imported only when fitting."""
    try:
        from privsynth.text import training
    except ImportError:
        raise ConfigurationError(
            "the text generator needs torch and opacus to fit", hint=_INSTALL_HINT
        ) from None
    return training


def _device(requested: str) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError("the text generator's `device` is 'cuda' but no GPU is present")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested
