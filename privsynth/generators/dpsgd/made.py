"""The network of the ``dpsgd`` generator, in numpy: a MADE (Germain et al. 2015,
"MADE: Masked Autoencoder for Distribution Estimation", ICML) over the columns' codes.

Every column is one-hot encoded; masked fully connected layers make the logits of
column ``j`` depend only on the columns before it in the model's order, so one forward
pass gives every conditional ``p(x_j | x_<j)`` (training) and sampling draws column
after column. A masked direct connection from the inputs to the outputs (as in MADE's
"connectivity-agnostic" variants) lets the model learn pairwise dependencies without
going through the hidden layers.

Everything here is public structure (domain sizes and widths) or DP output (the trained
weights), so sampling is post-processing; it needs numpy only, which is why saved models
sample without torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
#: rows drawn per batch when sampling (bounds memory)
_CHUNK = 8192


@dataclass(frozen=True)
class Architecture:
    """Domain sizes of the columns (in model order) and hidden widths: all public."""

    sizes: tuple[int, ...]
    hidden: tuple[int, ...]

    @property
    def width(self) -> int:
        """Input (and output) width: one unit per code of every column."""
        return sum(self.sizes)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Where each column's units start."""
        return tuple(int(o) for o in np.concatenate([[0], np.cumsum(self.sizes)[:-1]]))

    def columns_of_units(self) -> npt.NDArray[np.int64]:
        """The column (0-based, model order) of each input/output unit."""
        return np.repeat(np.arange(len(self.sizes)), self.sizes)

    def hidden_degrees(self, width: int) -> npt.NDArray[np.int64]:
        """MADE degrees 1 .. C-1 spread evenly (deterministic: no data, no randomness)."""
        spread = max(1, len(self.sizes) - 1)
        return np.arange(width) % spread + 1

    def masks(self) -> dict[str, npt.NDArray[np.float32]]:
        """Connectivity masks shaped like the weights (out, in) they multiply."""
        previous = self.columns_of_units() + 1
        masks = {}
        for i, width in enumerate(self.hidden):
            degrees = self.hidden_degrees(width)
            masks[f"hidden.{i}"] = (degrees[:, None] >= previous[None, :]).astype(np.float32)
            previous = degrees
        outputs = self.columns_of_units() + 1
        masks["out"] = (outputs[:, None] > previous[None, :]).astype(np.float32)
        inputs = self.columns_of_units()
        masks["direct"] = (inputs[:, None] > inputs[None, :]).astype(np.float32)
        return masks

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's shape, by name."""
        shapes: dict[str, tuple[int, ...]] = {}
        previous = self.width
        for i, width in enumerate(self.hidden):
            shapes[f"hidden.{i}.weight"] = (width, previous)
            shapes[f"hidden.{i}.bias"] = (width,)
            previous = width
        shapes["out.weight"] = (self.width, previous)
        shapes["out.bias"] = (self.width,)
        shapes["direct.weight"] = (self.width, self.width)
        return shapes

    def initial_weights(self, rng: np.random.Generator) -> dict[str, Array]:
        """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights (torch's Linear default),
        zero biases and a zero direct connection; masked entries are zero."""
        masks = self.masks()
        weights: dict[str, Array] = {}
        for name, shape in self.shapes().items():
            if name.endswith(".bias") or name == "direct.weight":
                weights[name] = np.zeros(shape, dtype=np.float32)
                continue
            bound = 1.0 / np.sqrt(shape[1])
            drawn = rng.uniform(-bound, bound, shape).astype(np.float32)
            weights[name] = drawn * masks[name.removesuffix(".weight")]
        return weights

    def to_json(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "hidden": list(self.hidden)}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> Architecture:
        return cls(tuple(int(s) for s in values["sizes"]), tuple(int(h) for h in values["hidden"]))


def one_hot(arch: Architecture, codes: npt.NDArray[np.int64]) -> Array:
    """Rows of codes (rows x columns, model order) as the network's input."""
    out = np.zeros((codes.shape[0], arch.width), dtype=np.float32)
    rows = np.arange(codes.shape[0])
    for j, offset in enumerate(arch.offsets):
        out[rows, offset + codes[:, j]] = 1.0
    return out


def _column_logits(
    arch: Architecture, weights: Mapping[str, Array], x: Array, column: int
) -> Array:
    """Logits of one column for inputs ``x`` (later columns' units are ignored)."""
    h = x
    for i in range(len(arch.hidden)):
        h = np.maximum(h @ weights[f"hidden.{i}.weight"].T + weights[f"hidden.{i}.bias"], 0.0)
    part = slice(arch.offsets[column], arch.offsets[column] + arch.sizes[column])
    logits = h @ weights["out.weight"][part].T + weights["out.bias"][part]
    return logits + x @ weights["direct.weight"][part].T


def _draw(logits: Array, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """One code per row from softmax(``logits``) by inversion of its CDF."""
    wide = logits.astype(np.float64)
    wide -= wide.max(axis=1, keepdims=True)
    probabilities = np.exp(wide)
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(wide)) * cumulative[:, -1]
    codes: npt.NDArray[np.int64] = (cumulative < u[:, None]).sum(axis=1, dtype=np.int64)
    np.minimum(codes, wide.shape[1] - 1, out=codes)
    return codes


def sample_codes(
    arch: Architecture, weights: Mapping[str, Array], rows: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """``rows`` records (rows x columns, model order), column by column."""
    masked = {**weights}
    for name, mask in arch.masks().items():
        masked[f"{name}.weight"] = weights[f"{name}.weight"] * mask
    out = np.zeros((rows, len(arch.sizes)), dtype=np.int64)
    for start in range(0, rows, _CHUNK):
        count = min(_CHUNK, rows - start)
        x = np.zeros((count, arch.width), dtype=np.float32)
        for j, offset in enumerate(arch.offsets):
            codes = _draw(_column_logits(arch, masked, x, j), rng)
            x[np.arange(count), offset + codes] = 1.0
            out[start : start + count, j] = codes
    return out
