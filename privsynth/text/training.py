"""DP-SGD for text models with Opacus (imported only when fitting).

Each training example is one document: its control prefix, its tokens and an end token,
cut to the model's context. Each step draws a Poisson sample of the examples (each with
probability ``q``, Opacus's ``UniformWithReplacementSampler``), computes every
example's gradient (Opacus's ``GradSampleModule``; only the trainable parameters carry
per-example gradients), clips each to L2 norm ``max_grad_norm``, sums, and adds Gaussian
noise of standard deviation ``sigma * max_grad_norm`` (Opacus's ``DPOptimizer``). A
Poisson batch larger than ``physical_batch`` is processed in pieces whose clipped sums
are accumulated before the one noisy step (as Opacus's ``BatchMemoryManager`` does);
an empty batch takes a noise-only step. The privacy cost (the ``steps``-fold subsampled
Gaussian) is charged before this runs; nothing computed from a batch is reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant
from opacus.optimizers import DPOptimizer
from opacus.utils.uniform_sampler import UniformWithReplacementSampler

from privsynth.text.models.base import TextModel


@dataclass(frozen=True)
class TextTrainingPlan:
    """Public hyper-parameters of one DP-SGD run (what the privacy cost depends on)."""

    sigma: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    lr: float
    #: the expected batch q * n, from the DP document count (never the exact n)
    expected_batch: float
    physical_batch: int
    device: str
    delta: float


@dataclass(frozen=True)
class Examples:
    """Padded token ids and, per example, where the document starts (after its prefix)."""

    ids: torch.Tensor
    lengths: torch.Tensor
    starts: torch.Tensor

    @classmethod
    def build(cls, prefixes: Sequence[list[int]], bodies: Sequence[list[int]], end: int,
              pad: int, context: int) -> Examples:  # fmt: skip
        """Prefix + body + end, cut to ``context`` tokens, right-padded."""
        rows = [(p + b + [end])[:context] for p, b in zip(prefixes, bodies, strict=True)]
        ids = torch.full((len(rows), context), pad, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        starts = torch.tensor([min(len(p), context) for p in prefixes], dtype=torch.long)
        return cls(ids, lengths, starts)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def document_losses(module: torch.nn.Module, ids: torch.Tensor, lengths: torch.Tensor,
                    starts: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Each document's mean next-token loss over its own tokens (the prefix is given,
    not predicted)."""
    width = int(lengths.max())
    inputs, targets = ids[:, : width - 1], ids[:, 1:width]
    logits = module(inputs)
    positions = torch.arange(1, width, device=ids.device)[None, :]
    mask = ((positions >= starts[:, None]) & (positions < lengths[:, None])).float()
    flat = logits.reshape(-1, logits.shape[-1])  # a view: no copy of the largest tensor
    # prompt positions (masked out) may hold control codes beyond the output vocabulary
    kept = targets.clamp(max=logits.shape[-1] - 1).reshape(-1)
    nll = F.cross_entropy(flat, kept, reduction="none").view(targets.shape)
    losses: torch.Tensor = (nll * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return losses


def _empty_step(optimizer: DPOptimizer) -> None:
    """A step on an empty Poisson batch: no gradient, only noise (as the analysis says)."""
    for p in optimizer.params:
        p.grad_sample = torch.zeros((0, *p.shape), device=p.device, dtype=p.dtype)
    optimizer.step()


def _batch_step(module: GradSampleModule, optimizer: DPOptimizer, examples: Examples,
                index: torch.Tensor, physical: int) -> None:  # fmt: skip
    pieces = torch.split(index, physical)
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        rows = examples.ids[piece], examples.lengths[piece], examples.starts[piece]
        device = next(module.parameters()).device
        losses = document_losses(module, *(r.to(device) for r in rows))
        losses.sum().backward()  # type: ignore[no-untyped-call]
        optimizer.signal_skip_step(do_skip=not last)
        optimizer.step()
        optimizer.zero_grad()


def train(
    model: TextModel,
    examples: Examples,
    plan: TextTrainingPlan,
    seeds: tuple[int, int],
    report: Callable[[int], None],
) -> float:
    """Run ``plan.steps`` DP-SGD steps; ``report(steps_done)`` once per epoch. Returns
    Opacus's own RDP accountant's ε over the steps taken (a cross-check)."""
    device = torch.device(plan.device)
    network = model.module.to(device)
    network.train()
    trainable = [p for p in network.parameters() if p.requires_grad]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        module = GradSampleModule(network)
    optimizer = DPOptimizer(
        torch.optim.Adam(trainable, lr=plan.lr), noise_multiplier=plan.sigma,
        max_grad_norm=plan.max_grad_norm, expected_batch_size=max(1, round(plan.expected_batch)),
        generator=torch.Generator(device=device).manual_seed(seeds[0]),
    )  # fmt: skip
    accountant = RDPAccountant()
    optimizer.attach_step_hook(accountant.get_optimizer_hook_fn(plan.sample_rate))
    sampler = UniformWithReplacementSampler(
        num_samples=len(examples), sample_rate=plan.sample_rate,
        generator=torch.Generator().manual_seed(seeds[1]), steps=plan.steps,
    )  # fmt: skip
    per_epoch = max(1, round(1.0 / plan.sample_rate))
    for taken, indices in enumerate(sampler, start=1):
        optimizer.zero_grad()
        index = torch.as_tensor(indices, dtype=torch.long)
        with warnings.catch_warnings():  # frozen inputs: Opacus's hooks warn
            warnings.filterwarnings("ignore", "Full backward hook", UserWarning)
            if len(index) == 0:
                _empty_step(optimizer)
            else:
                _batch_step(module, optimizer, examples, index, plan.physical_batch)
        if taken % per_epoch == 0 or taken == plan.steps:
            report(taken)
    module.to_standard_module()  # removes Opacus's hooks; the network keeps its weights
    network.eval()
    return float(accountant.get_epsilon(delta=plan.delta))
