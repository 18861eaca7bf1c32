"""The similarity task of ``pixel-similarity``: similarities, the matching loss and its gradient, the batches."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from v1mtl.data.images import ImageSplit
from v1mtl.training.pixel_similarity import (
    MAX_SIMILARITY,
    similarity_batches,
    similarity_matching_loss,
    similarity_matrix,
)


def _pairs(s: torch.Tensor) -> torch.Tensor:
    rows, cols = torch.triu_indices(len(s), len(s), offset=1)
    return s[rows, cols]


def test_similarities_are_cosines_of_batch_centered_rows():
    torch.manual_seed(0)
    x = torch.randn(6, 1, 4, 4)
    s = similarity_matrix(x)
    flat = x.reshape(6, -1)
    centered = flat - flat.mean(0)
    want = torch.nn.functional.cosine_similarity(centered[:, None], centered[None], dim=-1)
    assert torch.allclose(s, want, atol=1e-6)
    assert torch.allclose(s, s.T) and torch.allclose(s.diagonal(), torch.ones(6))
    # independent of the input normalization's offset and scale
    assert torch.allclose(similarity_matrix(3.0 * x - 0.45), s, atol=1e-5)
    # two centered vectors are opposite whatever the images: the reason batches must not be tiny
    assert similarity_matrix(x[:2])[0, 1].item() == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="at least 2"):
        similarity_matrix(x[:1])


def test_loss_is_zero_when_the_similarities_match_and_positive_otherwise():
    torch.manual_seed(1)
    pixels = similarity_matrix(torch.randn(8, 1, 6, 6))
    features = similarity_matrix(torch.randn(8, 4, 3, 3))
    assert similarity_matching_loss(pixels, pixels).item() == pytest.approx(0.0, abs=1e-10)
    loss = similarity_matching_loss(features, pixels)
    want = ((torch.atanh(_pairs(features)) - torch.atanh(_pairs(pixels))) ** 2).mean()
    assert loss.item() > 0 and torch.allclose(loss, want)
    # the diagonal (always 1) is not a pair and counts for nothing
    shifted = features.clone()
    shifted.diagonal().fill_(-0.5)
    assert torch.allclose(similarity_matching_loss(shifted, pixels), loss)
    # similarities at +-1 stay finite
    ones = torch.ones(3, 3)
    assert similarity_matching_loss(ones, -ones).item() == pytest.approx(
        (2 * np.arctanh(MAX_SIMILARITY)) ** 2, rel=1e-5
    )


def test_its_gradient_moves_feature_similarities_toward_the_pixel_similarities():
    torch.manual_seed(2)
    target = similarity_matrix(torch.randn(10, 1, 5, 5))
    # features of norm ~1: the cosine's gradient falls with the vectors' length
    features = (torch.randn(10, 16) / 4).requires_grad_()
    start = (_pairs(similarity_matrix(features)) - _pairs(target)).abs().mean().item()
    optimizer = torch.optim.SGD([features], lr=0.5)
    losses = []
    for _ in range(100):
        optimizer.zero_grad()
        loss = similarity_matching_loss(similarity_matrix(features), target)
        loss.backward()
        assert target.grad is None  # the pixel similarities are a constant
        optimizer.step()
        losses.append(loss.item())
    end = (_pairs(similarity_matrix(features)) - _pairs(target)).abs().mean().item()
    assert losses[-1] < 0.05 * losses[0]
    assert end < 0.1 * start


def _split(n: int) -> ImageSplit:
    images = np.arange(n, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), dtype=np.uint8)
    return ImageSplit(images, np.zeros(n, dtype=np.int64))


def test_batches_are_endless_full_sized_and_cover_the_split_every_pass():
    split = _split(10)
    source = similarity_batches(
        split, 4, torch.Generator().manual_seed(0), normalize=(0.0, 1.0 / 255), device=torch.device("cpu")
    )
    batches = list(itertools.islice(source, 6))
    assert all(b.shape == (4, 1, 4, 4) for b in batches)
    # two batches per pass of 10 images (the short tail is dropped); a pass holds no image twice
    for first, second in (batches[0:2], batches[2:4], batches[4:6]):
        ids = torch.cat([first, second])[:, 0, 0, 0].round().long().tolist()
        assert len(set(ids)) == 8 and set(ids) <= set(range(10))
    again = similarity_batches(
        split, 4, torch.Generator().manual_seed(0), normalize=(0.0, 1.0 / 255), device=torch.device("cpu")
    )
    assert all(torch.equal(a, b) for a, b in zip(batches, itertools.islice(again, 6), strict=True))
    # a batch size above the split's size takes all of it
    small = next(
        similarity_batches(split, 64, torch.Generator(), normalize=(0, 1), device=torch.device("cpu"))
    )
    assert small.shape[0] == 10
    with pytest.raises(ValueError, match="at least 2"):
        next(
            similarity_batches(_split(1), 4, torch.Generator(), normalize=(0, 1), device=torch.device("cpu"))
        )
