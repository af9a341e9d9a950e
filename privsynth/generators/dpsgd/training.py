"""DP-SGD training of the MADE network with Opacus (imported only when fitting).

DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy", CCS): each step
draws a Poisson sample of the rows (each row independently with probability ``q``,
Opacus's :class:`~opacus.utils.uniform_sampler.UniformWithReplacementSampler`), clips
every row's gradient to L2 norm ``max_grad_norm``, sums them and adds Gaussian noise of
standard deviation ``sigma * max_grad_norm`` (Opacus's ``DPOptimizer``). The privacy
cost is the ``steps``-fold subsampled Gaussian charged before this runs; an empty
Poisson batch is still a step: it takes a noise-only step, as the analysis assumes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from opacus.accountants import RDPAccountant
from opacus.grad_sample import GradSampleModuleFastGradientClipping, register_norm_sampler
from opacus.optimizers import DPOptimizerFastGradientClipping
from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn

from privsynth.generators.dpsgd.made import Architecture, Array, one_hot


@dataclass(frozen=True)
class TrainingPlan:
    """Public hyper-parameters of one DP-SGD run (what the privacy cost depends on)."""

    sigma: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    lr: float
    #: the expected batch q * n, from the DP row count (never from the exact n)
    expected_batch: float
    device: str
    #: where Opacus's accountant is read, for the cross-check
    delta: float


@dataclass(frozen=True)
class TrainingResult:
    weights: dict[str, Array]
    #: Opacus's own RDP accountant over the steps taken, at the run's delta
    opacus_epsilon: float
    steps_taken: int


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` while training, then restored (small
    layers gain little from threads, and lose much on a busy machine)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class MaskedLinear(nn.Module):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (a plain tensor
    on the layer's device, not a buffer: Opacus refuses trainable layers with buffers)."""

    def __init__(
        self, weight: Array, mask: Array, bias: Array | None, device: torch.device
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(weight.copy()).to(device))
        self.bias = None if bias is None else nn.Parameter(torch.from_numpy(bias.copy()).to(device))
        self.mask = torch.from_numpy(mask).to(device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


@register_norm_sampler(MaskedLinear)  # type: ignore[untyped-decorator]
def _masked_norm_sample(
    layer: MaskedLinear, activations: list[torch.Tensor], backprops: torch.Tensor
) -> dict[nn.Parameter, torch.Tensor]:
    """Each row's gradient norm without forming the gradient (ghost clipping, Li et al.
    2022): row n's weight gradient is (g_n a_n^T) * M, whose squared norm is
    sum_ij g_ni^2 M_ij a_nj^2, one matrix product. Masked entries count for nothing, so
    the clipping spends no norm on connections the model does not have."""
    inputs = activations[0].to(backprops.dtype)
    squared = ((backprops**2) @ layer.mask * inputs**2).sum(dim=1)
    norms = {layer.weight: squared.clamp(min=0.0).sqrt()}
    if layer.bias is not None:
        norms[layer.bias] = backprops.norm(dim=1)
    return norms


class Made(nn.Module):
    """MADE: masked hidden layers, masked output and a masked direct connection."""

    def __init__(
        self, arch: Architecture, weights: Mapping[str, Array], device: torch.device
    ) -> None:
        super().__init__()
        masks = arch.masks()

        def layer(name: str, bias: bool = True) -> MaskedLinear:
            found = weights[f"{name}.bias"] if bias else None
            return MaskedLinear(weights[f"{name}.weight"], masks[name], found, device)

        self.hidden = nn.ModuleList(layer(f"hidden.{i}") for i in range(len(arch.hidden)))
        self.out = layer("out")
        self.direct = layer("direct", bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in self.hidden:
            h = torch.relu(layer(h))
        logits: torch.Tensor = self.out(h) + self.direct(x)
        return logits


def _row_losses(arch: Architecture, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Each row's negative log-likelihood, summed over the columns."""
    total = torch.zeros(logits.shape[0], device=logits.device)
    for j, (offset, size) in enumerate(zip(arch.offsets, arch.sizes, strict=True)):
        log_p = torch.log_softmax(logits[:, offset : offset + size], dim=1)
        total = total - log_p.gather(1, codes[:, j : j + 1]).squeeze(1)
    return total


def train(
    arch: Architecture,
    weights: Mapping[str, Array],
    codes: npt.NDArray[np.int64],
    plan: TrainingPlan,
    seeds: tuple[int, int],
    report: Callable[[int], None],
) -> TrainingResult:
    """Run ``plan.steps`` DP-SGD steps on ``codes`` (rows x columns, model order);
    ``report(steps_done)`` after every epoch (1 / q steps). Nothing computed from the
    batches (losses, batch sizes) is reported: it would be a release without noise."""
    device = torch.device(plan.device)
    model = GradSampleModuleFastGradientClipping(
        Made(arch, weights, device), max_grad_norm=plan.max_grad_norm, use_ghost_clipping=True,
        loss_reduction="sum",
    )  # fmt: skip
    noise = torch.Generator(device=device).manual_seed(seeds[0])
    optimizer = DPOptimizerFastGradientClipping(
        torch.optim.Adam(model.parameters(), lr=plan.lr),
        noise_multiplier=plan.sigma, max_grad_norm=plan.max_grad_norm,
        expected_batch_size=max(1, round(plan.expected_batch)), loss_reduction="mean",
        generator=noise,
    )  # fmt: skip
    accountant = RDPAccountant()
    optimizer.attach_step_hook(accountant.get_optimizer_hook_fn(plan.sample_rate))
    inputs = torch.from_numpy(one_hot(arch, codes)).to(device)
    targets = torch.from_numpy(codes).to(device)
    sampler = UniformWithReplacementSampler(
        num_samples=len(codes), sample_rate=plan.sample_rate,
        generator=torch.Generator().manual_seed(seeds[1]), steps=plan.steps,
    )  # fmt: skip
    per_epoch = max(1, round(1.0 / plan.sample_rate))
    taken = 0
    for indices in sampler:
        index = torch.as_tensor(indices, dtype=torch.long, device=device)
        optimizer.zero_grad()
        per_row = _row_losses(arch, model(inputs[index]), targets[index])
        with warnings.catch_warnings():  # the inputs need no gradient: Opacus's hooks warn
            warnings.filterwarnings("ignore", "Full backward hook", UserWarning)
            # two backward passes: norms, then the clipped sum (an empty batch: zeros)
            DPTensorFastGradientClipping(model, optimizer, per_row, "sum").backward()
        optimizer.step()  # adds the noise: an empty batch takes a noise-only step
        taken += 1
        if taken % per_epoch == 0 or taken == plan.steps:
            report(taken)
    trained = model._module
    result = {name: p.detach().cpu().numpy().copy() for name, p in trained.named_parameters()}
    epsilon = float(accountant.get_epsilon(delta=plan.delta))
    return TrainingResult(result, epsilon, taken)
