"""Per-image random streams, so a corrupted image depends only on (seed, image index, corruption, severity).

Each image gets its own CPU ``torch.Generator`` seeded from a SplitMix64 hash of those four values
(SplitMix64: Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"). The draws are
made on the CPU, one small call per image, and moved to the images' device: the same test set comes out
on any batch size and on the CPU or a GPU. All arithmetic on the images stays batched.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Sequence

import torch

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def image_key(seed: int, index: int, name: str, severity: int) -> int:
    """A 63-bit generator seed for one image; distinct corruptions and severities get independent streams."""
    key = _splitmix64(seed & _MASK64)
    for part in (index & _MASK64, zlib.crc32(name.encode()), severity):
        key = _splitmix64(key ^ part)
    return key >> 1


class ImageRandom:
    """Random draws for a batch: every method returns ``(batch, *shape)`` on ``device``.

    Each image's values come from its own generator, in call order, so they do not depend on which other
    images share the batch.
    """

    def __init__(self, seed: int, indices: Sequence[int], name: str, severity: int, device: torch.device):
        self.device = device
        self._keys = [image_key(seed, int(index), name, severity) for index in indices]
        self._cache: list[torch.Generator] | None = None

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def _generators(self) -> list[torch.Generator]:
        # Made on first use: deterministic corruptions never pay for them.
        if self._cache is None:
            self._cache = [torch.Generator().manual_seed(key) for key in self._keys]
        return self._cache

    def subset(self, rows: Sequence[int]) -> ImageRandom:
        """The streams of the images at ``rows`` (positions in this batch); draws from it advance them here too."""
        part = copy.copy(self)
        part._keys = [self._keys[r] for r in rows]
        part._cache = [self._generators[r] for r in rows]
        return part

    def _stack(self, draws: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(draws).to(self.device)

    def uniform(
        self,
        shape: Sequence[int] = (),
        low: float = 0.0,
        high: float = 1.0,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        draws = self._stack([torch.rand(tuple(shape), generator=g, dtype=dtype) for g in self._generators])
        if (low, high) == (0.0, 1.0):
            return draws
        return draws.mul_(high - low).add_(low)

    def normal(self, shape: Sequence[int], mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
        draws = [torch.randn(tuple(shape), generator=g) for g in self._generators]
        return mean + std * self._stack(draws)

    def randint(self, low: int, high: int, shape: Sequence[int] = ()) -> torch.Tensor:
        """Integers in ``[low, high)`` like ``np.random.randint``."""
        draws = [torch.randint(low, high, tuple(shape), generator=g) for g in self._generators]
        return self._stack(draws)

    def poisson(self, rates: torch.Tensor) -> torch.Tensor:
        """Poisson counts with the given ``(batch, ...)`` rates (drawn on the CPU)."""
        cpu = rates.detach().to("cpu", torch.float64)
        draws = [torch.poisson(r, generator=g) for r, g in zip(cpu, self._generators, strict=True)]
        return self._stack(draws)
