"""The interface the DP-SGD trainer and the sampler need from a language model.

A model exposes a torch module whose only trainable parameters are the ones DP-SGD
updates (everything pretrained is frozen), a tokenizer over a vocabulary fixed before
any private document is read, and incremental decoding for sampling. What is saved is
the trainable part (DP output) and a JSON description of the frozen part, which must be
available offline where the model is loaded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from privsynth.registry import Registry

Array = npt.NDArray[np.float32]


class TextModel(ABC):
    """A causal language model with a public vocabulary and few trainable parameters."""

    name: ClassVar[str]
    #: the longest sequence (control prefix + document + end) it trains on and samples
    context: int

    @property
    @abstractmethod
    def module(self) -> Any:
        """The ``torch.nn.Module``: ``module(ids [B, T]) -> logits [B, T, V]``."""

    @property
    @abstractmethod
    def special_ids(self) -> tuple[int, int, int]:
        """(begin, end, pad) token ids."""

    @abstractmethod
    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text (no special tokens)."""

    @abstractmethod
    def decode(self, ids: list[int]) -> str:
        """Text from token ids (special tokens dropped)."""

    @abstractmethod
    def start_decoding(self, ids: Any) -> tuple[Any, Any]:
        """Logits after the prompts ``ids`` [B, T] and a cache for :meth:`continue_decoding`."""

    @abstractmethod
    def continue_decoding(self, token: Any, cache: Any, position: int) -> tuple[Any, Any]:
        """Logits after one more token per row (``token`` [B, 1] at ``position``)."""

    @abstractmethod
    def trainable_state(self) -> dict[str, Array]:
        """The trained parameters (DP output), by name."""

    @abstractmethod
    def load_trainable_state(self, state: dict[str, Array]) -> None:
        """Restore :meth:`trainable_state` output."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON description that rebuilds the model (with the frozen part found offline)."""

    def use_conditions(self, conditions: list[str]) -> None:
        """Prepare for these conditions (a public list), before training. Models that
        read conditions as words (the default) need nothing."""
        return None

    def prompt(self, condition: str) -> list[int]:
        """The control prefix: begin, the condition's tokens, end of prefix."""
        begin, end, _ = self.special_ids
        return [begin, *self.encode([condition])[0], end] if condition else [begin]


TEXT_MODELS: Registry[Callable[..., TextModel]] = Registry("text model")
