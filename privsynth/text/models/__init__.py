"""Language models the text generator trains with DP-SGD: a small one trained from
scratch over a public vocabulary (the default), and pretrained causal LMs with LoRA.

Factories are registered here and import torch (and transformers) only when a model is
built, so naming a model costs nothing to commands that never train one."""

from typing import Any

from privsynth.text.models import pretrained as _pretrained  # noqa: F401
from privsynth.text.models.base import TEXT_MODELS, TextModel


@TEXT_MODELS.register("small")
def _small(**options: Any) -> TextModel:
    from privsynth.text.models.small import SmallTextModel

    return SmallTextModel(**options)


__all__ = ["TEXT_MODELS", "TextModel"]
