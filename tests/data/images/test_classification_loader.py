import numpy as np
import pytest
import torch

from v1mtl.data.images import TIN_GRAY_MEAN, TIN_GRAY_STD, ClassificationBatches, ImageSplit


def _split(n=50, size=8):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    # Label = row index, so every batch tells which rows it holds.
    return ImageSplit(images, np.arange(n, dtype=np.int64))


def test_plain_pass_converts_and_normalizes():
    split = _split()
    batches = ClassificationBatches(split, 16, shuffle=False)
    assert len(batches) == 4
    xs, ys = zip(*batches, strict=True)
    y = torch.cat(ys)
    assert torch.equal(y, torch.arange(50))
    x = torch.cat(xs)
    assert x.shape == (50, 1, 8, 8) and x.dtype == torch.float32
    expected = (split.images.astype(np.float32) / 255.0 - TIN_GRAY_MEAN) / TIN_GRAY_STD
    np.testing.assert_allclose(x[:, 0].numpy(), expected, rtol=1e-5, atol=1e-5)


def test_shuffle_and_augment_are_repeatable_and_threads_do_not_matter():
    split = _split()

    def run(prefetch, seed=5):
        gen = torch.Generator().manual_seed(seed)
        b = ClassificationBatches(split, 16, shuffle=True, generator=gen, augment=True, prefetch=prefetch)
        return [list(b), list(b)]  # two epochs

    a, b, c = run(2), run(0), run(2, seed=6)
    for ea, eb in zip(a, b, strict=True):
        for (xa, ya), (xb, yb) in zip(ea, eb, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    # Epochs differ from each other and from another seed.
    assert not torch.equal(torch.cat([y for _, y in a[0]]), torch.cat([y for _, y in a[1]]))
    assert not torch.equal(torch.cat([y for _, y in a[0]]), torch.cat([y for _, y in c[0]]))
    assert sorted(torch.cat([y for _, y in a[0]]).tolist()) == list(range(50))


def test_augmentation_changes_images_but_keeps_labels_aligned():
    split = _split()
    gen = torch.Generator().manual_seed(0)
    for x, y in ClassificationBatches(
        split, 10, shuffle=True, generator=gen, augment=True, normalize=(0.0, 1.0)
    ):
        plain = torch.from_numpy(split.images[y.numpy()]).float().unsqueeze(1) / 255.0
        assert not torch.equal(x, plain)
        # Zero fill and bilinear rotation keep values inside the original range.
        assert x.min() >= 0 and x.max() <= 1 + 1e-6


def test_sharding_like_distributed_sampler():
    split = _split(n=25)
    seen = []
    for rank in range(3):
        b = ClassificationBatches(
            split, 4, shuffle=True, generator=torch.Generator().manual_seed(1), rank=rank, world_size=3
        )
        assert b.n_samples == 9 and len(b) == 3
        seen.append(torch.cat([y for _, y in b]).tolist())
    flat = sum(seen, [])
    assert len(flat) == 27 and set(flat) == set(range(25))  # padded by wrapping around, as DistributedSampler
    drop = ClassificationBatches(split, 4, shuffle=False, drop_last=True, world_size=3)
    assert len(drop) == 2 and all(len(y) == 4 for _, y in drop)


def test_needs_a_generator_to_shuffle():
    with pytest.raises(ValueError, match="Generator"):
        ClassificationBatches(_split(), 4, shuffle=True)
