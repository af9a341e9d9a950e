"""Drawing documents from a trained text model: post-processing of a DP model, so it
spends nothing and may be repeated freely.

Documents sharing a control prefix are drawn together in batches, token by token with
the model's key/value cache; ``temperature`` and nucleus (``top_p``) sampling trade
diversity for fluency (1.0 and 1.0 draw from the model's own distribution).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from privsynth.text.models.base import TextModel


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_p: float = 1.0
    batch: int = 64


def _filtered(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    logits = logits.float() / max(settings.temperature, 1e-4)
    if settings.top_p < 1.0:
        ordered, order = torch.sort(logits, descending=True, dim=-1)
        mass = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        cut = mass - torch.softmax(ordered, dim=-1) > settings.top_p
        ordered[cut] = -torch.inf
        logits = torch.full_like(logits, -torch.inf).scatter(-1, order, ordered)
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def _draw_batch(model: TextModel, prompt: list[int], count: int, settings: SamplingSettings,
                generator: torch.Generator) -> list[list[int]]:  # fmt: skip
    """``count`` continuations of one prompt, each cut at its end token."""
    _, end, _ = model.special_ids
    device = next(model.module.parameters()).device
    ids = torch.tensor([prompt] * count, dtype=torch.long, device=device)
    logits, cache = model.start_decoding(ids)
    drawn: list[torch.Tensor] = []
    finished = torch.zeros(count, dtype=torch.bool, device=device)
    for position in range(len(prompt), model.context):
        probabilities = _filtered(logits, settings).cpu()
        token = torch.multinomial(probabilities, 1, generator=generator).to(device)
        drawn.append(token)
        finished |= token.squeeze(1) == end
        if bool(finished.all()) or position + 1 >= model.context:
            break
        logits, cache = model.continue_decoding(token, cache, position)
    rows = torch.cat(drawn, dim=1).tolist() if drawn else [[] for _ in range(count)]
    return [row[: row.index(end)] if end in row else row for row in rows]


def draw_documents(
    model: TextModel,
    prompts: list[list[int]],
    rng: np.random.Generator,
    settings: SamplingSettings,
    progress: Callable[[int], None] = lambda _: None,
) -> list[list[int]]:
    """One document (token ids, no prompt) per prompt, in the order of ``prompts``."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    model.module.eval()
    groups: dict[tuple[int, ...], list[int]] = {}
    for row, prompt in enumerate(prompts):
        groups.setdefault(tuple(prompt), []).append(row)
    result: list[list[int]] = [[] for _ in prompts]
    done = 0
    for key, rows in groups.items():
        prompt = list(key)
        for start in range(0, len(rows), settings.batch):
            chunk = rows[start : start + settings.batch]
            for row, ids in zip(
                chunk, _draw_batch(model, prompt, len(chunk), settings, generator),
                strict=True,
            ):  # fmt: skip
                result[row] = ids
            done += len(chunk)
            progress(done)
    return result


@torch.no_grad()
def log_likelihoods(model: TextModel, prompts: list[list[int]], texts: list[str]) -> list[float]:
    """Each text's total log-likelihood under the model after its prompt (for canary
    exposure: how much likelier the model finds an inserted secret than others)."""
    end = model.special_ids[1]
    device = next(model.module.parameters()).device
    result = []
    for prompt, body in zip(prompts, model.encode(texts), strict=True):
        ids = (prompt + body + [end])[: model.context]
        tensor = torch.tensor([ids], dtype=torch.long, device=device)
        logits = model.module(tensor[:, :-1]).float().log_softmax(-1)
        # only the document's tokens are scored (a prompt may hold control codes)
        positions = torch.arange(len(prompt) - 1, len(ids) - 1)
        picked = logits[0, positions, tensor[0, positions + 1]]
        result.append(float(picked.sum()))
    return result
