"""The auxiliary task of the ``pixel-similarity`` control: match the trunk's representational similarity to
that of the pixels.

Source: Attias, Pehlevan & Obeid (2024), "A brain-inspired regularizer for adversarial robustness",
arXiv:2410.03952 (v3 titled "Pixel-based similarities as an alternative to neural data for improving
convolutional neural network adversarial robustness"). They keep the similarity loss of Li et al. (2019,
"Learning from brains how to regularize machines", NeurIPS, arXiv:1911.05072), which trains a CNN's
representational similarity between pairs of images to match a neural one, and replace the neural
similarity by one computed from the images' pixels; they report it gives the robustness the neural data
gave. The images are the classification training images: the paper's regularizer "relies only on
original datasets" (its abstract).

What v1mtl takes over, and what it chooses (the papers' text could not be checked line by line when this
was written, so every detail below not in that summary is v1mtl's choice):

- **Representation**: the shared trunk's output (``MultiTaskNet.shared_features``, the split that feeds
  the V1 readouts of the MTL conditions), one layer. Li et al. combine several layers with learned
  weights; one layer keeps the control comparable to MTL, whose neural loss also acts at that split.
- **Similarity**: the cosine similarity of flattened vectors (pixels ``(1, H, W)`` or features
  ``(c, h, w)``), each vector centered by the mean over the batch first. v1mtl's choice, for two reasons:
  the trunk's features are ReLU outputs, so uncentered cosines lie in [0, 1] and cannot reach the negative
  pixel similarities; and centering makes the pixel similarity independent of the input normalization's
  offset. With a batch of ``B`` images the centered similarities average about ``-1 / (B - 1)`` off the
  diagonal (exactly, when the centered vectors are of equal length), so batches should not be tiny.
- **Pairs**: every pair ``i < j`` of one auxiliary batch, ``B (B - 1) / 2`` pairs, no thresholding of the
  pixel similarities (v1mtl's choice).
- **Loss**: the mean over pairs of ``(arctanh(S_feat) - arctanh(S_pix))^2``, similarities compared after the
  Fisher z-transform as v1mtl reads Li et al.'s similarity loss; both clamped to ``|S| <= 0.999`` first.
- **Batches**: ``neural.batch_size`` training images, shuffled, not augmented (the neural batches of MTL are
  not augmented either), normalized as the classification input; every batch has the same size.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from v1mtl.data.images import ClassificationBatches, ImageSplit

# arctanh(0.999) = 3.8 and its slope 1 / (1 - s^2) = 500 there: a bound on the loss and its gradient for
# near-identical pairs (duplicate images), where arctanh would diverge.
MAX_SIMILARITY = 0.999
# cosine of a vector that is zero after centering: 0 rather than NaN
_NORM_EPS = 1e-8


def similarity_matrix(x: torch.Tensor) -> torch.Tensor:
    """Cosine similarities ``(batch, batch)`` of the batch-centered, flattened rows of ``x`` ``(batch, ...)``.

    Computed in float32 whatever ``x``'s dtype (autocast may hand in bfloat16 features).
    """
    if x.shape[0] < 2:
        raise ValueError(f"similarities need at least 2 images, got {x.shape[0]}")
    flat = x.reshape(x.shape[0], -1).float()
    unit = F.normalize(flat - flat.mean(0, keepdim=True), dim=1, eps=_NORM_EPS)
    return unit @ unit.T


def similarity_matching_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over pairs ``i < j`` of ``(arctanh(pred_ij) - arctanh(target_ij))^2``; ``pred`` and ``target``
    are ``(batch, batch)`` similarity matrices, clamped to ``|S| <= MAX_SIMILARITY``. ``target`` is a
    constant (no gradient flows into it)."""
    if pred.shape != target.shape or pred.ndim != 2 or pred.shape[0] != pred.shape[1]:
        raise ValueError(f"need two equal square matrices, got {tuple(pred.shape)} and {tuple(target.shape)}")
    rows, cols = torch.triu_indices(pred.shape[0], pred.shape[1], offset=1, device=pred.device)
    z_pred = torch.atanh(pred[rows, cols].clamp(-MAX_SIMILARITY, MAX_SIMILARITY))
    z_target = torch.atanh(target.detach()[rows, cols].clamp(-MAX_SIMILARITY, MAX_SIMILARITY))
    return ((z_pred - z_target) ** 2).mean()


def similarity_batches(
    split: ImageSplit,
    batch_size: int,
    generator: torch.Generator,
    *,
    normalize: tuple[float, float],
    device: torch.device,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[torch.Tensor]:
    """Endless normalized image batches ``(batch, 1, H, W)`` of ``split``, shuffled by ``generator`` (a new
    order each pass), unaugmented, each of ``min(batch_size, images of this rank)`` images; this rank's shard
    under DDP, as ``ClassificationBatches`` shards."""
    per_rank = -(-len(split) // world_size)  # ClassificationBatches.n_samples
    if per_rank < 2:
        raise ValueError(
            f"the similarity task needs at least 2 training images per process, got {len(split)}"
        )
    # every batch full-sized, so the pair count and the centering bias are the same from batch to batch
    batches = ClassificationBatches(
        split,
        min(batch_size, per_rank),
        shuffle=True,
        generator=generator,
        normalize=normalize,
        device=device,
        rank=rank,
        world_size=world_size,
        drop_last=True,
        prefetch=0,
    )
    while True:
        for x, _ in batches:
            yield x
