"""Adversarial robustness: top-1 accuracy under PGD attacks (L∞ and L2) at several budgets, next to corruptions.

The attack is projected gradient descent on the cross-entropy (Madry et al. 2018, "Towards deep learning
models resistant to adversarial attacks", ICLR): a uniform random start inside the budget, ``steps`` steps of
size ``2.5 * eps / steps`` (their choice, which lets the attack reach the boundary from anywhere in the ball),
projection onto the budget and onto valid pixels [0, 1] after each step, and ``restarts`` independent starts
(an image counts as robust only if it survives every one). For stochastic networks the gradient and the loss
are averaged over ``eot_samples`` forward passes (expectation over transformation, Athalye et al. 2018).

Budgets are in [0, 1] pixel units of the gray images the network sees (32 or 64 px, one channel), applied
BEFORE the network's normalization: the attacked model is a ``UnitRangeClassifier``.

A gradient-masking check flags results that look like a broken attack rather than a robust network
(Carlini et al. 2019, "On evaluating adversarial robustness"): the loss must rise from the clean image to the
end of the attack at every positive budget, accuracy must not rise with the budget, and at the largest budget
accuracy must fall to chance or below.

``run_adversarial_stage`` is what ``v1mtl evaluate adversarial CKPT`` runs; see docs/robustness.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from v1mtl.common.atomic import write_json
from v1mtl.common.config import config_from_dict, config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import BatchSize, NonNegativeFloat, PixelValue, PositiveInt, Seed
from v1mtl.common.tables import write_csv
from v1mtl.evaluate.corrupted_sources import evenly_spaced

Norm = Literal["linf", "l2"]
NORMS = ("linf", "l2")
CSV_NAME = "adversarial.csv"
SUMMARY_NAME = "adversarial.json"
CSV_COLUMNS = ("model", "norm", "eps", "n", "correct", "accuracy", "mean_loss_start", "mean_loss_end")
# Madry et al. 2018: step size 2.5 * eps / steps
STEP_FACTOR = 2.5
# the L2 direction of a zero gradient is left at zero rather than divided by zero
_TINY = 1e-12


@dataclass
class AdversarialConfig:
    """Settings of an adversarial evaluation.

    Attributes:
        norms: the threat models, ``linf`` and/or ``l2``.
        linf_eps: L∞ budgets in [0, 1] pixel units (0 = clean accuracy). The defaults are the VOneNet paper's
            1/1020, 1/255 and 4/255, and 0.25, large enough that any network must fall to chance (the
            gradient-masking check reads the largest budget).
        l2_eps: L2 budgets over the whole gray image, in [0, 1] pixel units. The defaults are the VOneNet
            paper's 0.15, 0.6 and 2.4 (224 px RGB) scaled by sqrt(64*64 / (224*224*3)) to 64 px gray, and 8.
        steps: PGD steps per restart.
        restarts: starts per image; an image is robust only if it survives them all.
        random_start: start each restart at a uniform random point of the budget (Madry et al.), else at the
            clean image. Under L2 the projection (a rescaling) shrinks the random start's part by only about
            e^-2.5 over the attack, whatever ``steps``, so in many dimensions a random start ends some degrees
            off the steepest direction; a start at the clean image does not (every restart then starts there, so
            ``restarts`` > 1 adds nothing for a deterministic network).
        eot_samples: forward passes averaged per gradient and per loss (1 for a deterministic network).
        data: the clean test images; None = the data set the network was trained on.
        limit: attack at most this many test images (spread evenly), or None for all.
        seed: seed of the random starts (the same starts for every model).
        batch_size: images per batch.
    """

    norms: list[Norm] = field(default_factory=lambda: ["linf", "l2"])
    linf_eps: list[PixelValue] = field(default_factory=lambda: [0.0, 1 / 1020, 1 / 255, 4 / 255, 0.25])
    l2_eps: list[NonNegativeFloat] = field(default_factory=lambda: [0.0, 0.025, 0.1, 0.4, 8.0])
    steps: PositiveInt = 20
    restarts: PositiveInt = 1
    eot_samples: PositiveInt = 1
    random_start: bool = True
    data: str | None = None
    limit: PositiveInt | None = 1000
    seed: Seed = 0
    batch_size: BatchSize = 128


@dataclass(frozen=True)
class AttackResult:
    """One batch attacked at one budget. ``adversarial``: ``(B, C, H, W)`` in [0, 1]; the rest ``(B,)``."""

    adversarial: torch.Tensor
    correct: torch.Tensor
    loss_start: torch.Tensor
    loss_end: torch.Tensor


@dataclass(frozen=True)
class AdversarialRow:
    """One ``(model, norm, eps)`` condition of the tidy CSV; losses are per-image cross-entropies."""

    model: str
    norm: str
    eps: float
    n: int
    correct: int
    mean_loss_start: float
    mean_loss_end: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eot_samples: int) -> torch.Tensor:
    """Per-image cross-entropy ``(B,)`` averaged over ``eot_samples`` forward passes (EOT)."""
    return torch.stack([F.cross_entropy(model(x), y, reduction="none") for _ in range(eot_samples)]).mean(0)


def _random_start(x: torch.Tensor, norm: Norm, eps: float, generator: torch.Generator) -> torch.Tensor:
    """A perturbation ``(B, C, H, W)`` uniform in the L∞ cube, or uniform in the L2 ball, of radius ``eps``."""
    shape, kw = x.shape, {"generator": generator, "device": "cpu"}
    if norm == "linf":
        delta = (torch.rand(shape, **kw) * 2 - 1) * eps
    else:
        direction = torch.randn(shape, **kw)
        direction = direction / direction.flatten(1).norm(dim=1).clamp_min(_TINY).view(-1, 1, 1, 1)
        # radius eps * u^(1/d) is uniform in the volume of a d-dimensional ball
        radius = eps * torch.rand(shape[0], **kw) ** (1 / x[0].numel())
        delta = direction * radius.view(-1, 1, 1, 1)
    return delta.to(x.device, x.dtype)


def _step(delta: torch.Tensor, grad: torch.Tensor, norm: Norm, eps: float, alpha: float) -> torch.Tensor:
    """Ascend the loss by ``alpha`` (steepest direction of ``norm``) and project back onto the ``eps`` ball."""
    if norm == "linf":
        return (delta + alpha * grad.sign()).clamp(-eps, eps)
    flat = grad.flatten(1).norm(dim=1).clamp_min(_TINY).view(-1, 1, 1, 1)
    delta = delta + alpha * grad / flat
    size = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    # outside the ball: scale back onto its surface; inside: keep
    return delta * (eps / size.clamp_min(eps))


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    norm: Norm,
    eps: float,
    steps: int,
    restarts: int = 1,
    eot_samples: int = 1,
    random_start: bool = True,
    generator: torch.Generator | None = None,
) -> AttackResult:
    """PGD on the cross-entropy of ``model`` within the ``norm`` ball of radius ``eps`` around ``x``.

    Args:
        model: ``(B, C, H, W)`` in [0, 1] -> logits ``(B, classes)``; called as it is (put it in eval mode).
        x: clean images ``(B, C, H, W)`` in [0, 1]; y: labels ``(B,)``.
        norm, eps: the threat model and budget, in [0, 1] pixel units.
        steps, restarts, eot_samples, random_start: see ``AdversarialConfig``.
        generator: CPU generator of the random starts (repeatable results).

    Returns:
        The worst adversarial image per input over the restarts (a misclassified one where there is one,
        else the one of the highest loss), whether it is still classified correctly, and the losses at the
        clean image and at the returned image.
    """
    if norm not in NORMS:
        raise InputError(f"unknown norm {norm!r}; expected one of {', '.join(NORMS)}", field="norms")
    generator = generator or torch.Generator().manual_seed(0)
    alpha = STEP_FACTOR * eps / steps
    with torch.no_grad():
        loss_start = _loss(model, x, y, eot_samples)
    best, best_loss = x.clone(), loss_start.clone()
    best_correct = _predict(model, x, eot_samples) == y
    if eps == 0:
        return AttackResult(best, best_correct, loss_start, loss_start.clone())
    for _ in range(restarts):
        delta = torch.zeros_like(x)
        if random_start:
            delta = (x + _random_start(x, norm, eps, generator)).clamp(0, 1) - x
        for _ in range(steps):
            delta.requires_grad_(True)
            # only the input's gradient is needed, so the parameters collect none
            (grad,) = torch.autograd.grad(_loss(model, x + delta, y, eot_samples).sum(), delta)
            delta = _step(delta.detach(), grad, norm, eps, alpha)
            # valid pixels; clipping keeps the perturbation inside the ball (it only shrinks it)
            delta = (x + delta).clamp(0, 1) - x
        with torch.no_grad():
            adv = x + delta
            loss = _loss(model, adv, y, eot_samples)
            correct = _predict(model, adv, eot_samples) == y
        # prefer a misclassified image, then the higher loss
        better = (best_correct & ~correct) | ((best_correct == correct) & (loss > best_loss))
        best = torch.where(better.view(-1, 1, 1, 1), adv, best)
        best_loss = torch.where(better, loss, best_loss)
        best_correct = torch.where(better, correct, best_correct)
    return AttackResult(best, best_correct, loss_start, best_loss)


def _predict(model: nn.Module, x: torch.Tensor, eot_samples: int) -> torch.Tensor:
    """Top-1 class ``(B,)`` of the logits averaged over ``eot_samples`` passes."""
    with torch.no_grad():
        return torch.stack([model(x) for _ in range(eot_samples)]).mean(0).argmax(1)


def evaluate_adversarial(
    model: nn.Module,
    batches: list[tuple[torch.Tensor, torch.Tensor]],
    budgets: dict[str, list[float]],
    *,
    model_name: str,
    steps: int,
    restarts: int = 1,
    eot_samples: int = 1,
    random_start: bool = True,
    seed: int = 0,
) -> list[AdversarialRow]:
    """Accuracy of ``model`` under PGD at every ``(norm, eps)`` of ``budgets``, over the same ``batches``.

    Args:
        model: as ``pgd``'s; put in eval mode here.
        batches: ``(images (B, 1, H, W) in [0, 1], labels (B,))`` on the model's device.
        budgets: norm -> budgets, e.g. ``{"linf": [0, 4/255], "l2": [0, 0.5]}``.
        seed: every ``(norm, eps)`` starts its generator from it (and, for a stochastic network, torch's
            global generator, which draws the network's noise), so rows do not depend on each other.

    Returns:
        One row per ``(norm, eps)``, in the order given.
    """
    model.eval()
    rows = []
    for norm, eps_list in budgets.items():
        for eps in eps_list:
            generator = torch.Generator().manual_seed(seed)
            if getattr(model, "stochastic", False):
                # the network's own noise comes from torch's global generator: the same draws every run
                torch.manual_seed(seed)
            n = correct = 0
            start = end = 0.0
            for x, y in batches:
                r = pgd(
                    model,
                    x,
                    y,
                    norm=norm,
                    eps=float(eps),
                    steps=steps,
                    restarts=restarts,
                    eot_samples=eot_samples,
                    random_start=random_start,
                    generator=generator,
                )
                n += int(y.shape[0])
                correct += int(r.correct.sum())
                start += float(r.loss_start.sum())
                end += float(r.loss_end.sum())
            rows.append(AdversarialRow(model_name, norm, float(eps), n, correct, start / n, end / n))
    return rows


def gradient_masking_reasons(rows: list[AdversarialRow], n_classes: int) -> list[str]:
    """Why ``rows`` (one model) look like gradient masking; empty when they pass every check.

    Per norm: the mean loss must rise at every positive budget, accuracy must not rise with the budget, and
    at the largest budget accuracy must be at most chance (``1 / n_classes``).
    """
    reasons = []
    for norm in dict.fromkeys(r.norm for r in rows):
        ordered = sorted((r for r in rows if r.norm == norm), key=lambda r: r.eps)
        for r in ordered:
            if r.eps > 0 and not r.mean_loss_end > r.mean_loss_start:
                reasons.append(
                    f"{norm} eps={r.eps:g}: the attack did not raise the loss "
                    f"({r.mean_loss_start:.4g} -> {r.mean_loss_end:.4g})"
                )
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.accuracy > a.accuracy:
                reasons.append(
                    f"{norm}: accuracy rises from {a.accuracy:.3f} at eps={a.eps:g} to "
                    f"{b.accuracy:.3f} at eps={b.eps:g}"
                )
        top = ordered[-1]
        if top.eps > 0 and top.accuracy > 1 / n_classes:
            reasons.append(
                f"{norm}: accuracy {top.accuracy:.3f} at the largest budget eps={top.eps:g} is "
                f"above chance {1 / n_classes:.3f}"
            )
    return reasons


def csv_rows(rows: list[AdversarialRow]) -> list[dict[str, Any]]:
    """The tidy CSV's rows, columns ``CSV_COLUMNS``."""
    return [{column: getattr(r, column) for column in CSV_COLUMNS} for r in rows]


def _batches(
    split: Any, limit: int | None, batch_size: int, device: str
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(images (B, 1, H, W) float in [0, 1], labels (B,))`` of the gray test split, ``limit`` spread evenly."""
    indices = evenly_spaced(len(split), limit)
    for start in range(0, len(indices), batch_size):
        idx = indices[start : start + batch_size]
        x = torch.from_numpy(np.asarray(split.images[idx], dtype=np.float32) / 255.0).unsqueeze(1)
        y = torch.from_numpy(np.asarray(split.labels[idx], dtype=np.int64))
        yield x.to(device), y.to(device)


def _budgets(cfg: AdversarialConfig) -> dict[str, list[float]]:
    """norm -> its budgets, each list sorted and without repeats."""
    if not cfg.norms:
        raise InputError("give at least one norm (linf, l2)", field="norms")
    lists = {"linf": cfg.linf_eps, "l2": cfg.l2_eps}
    for norm in dict.fromkeys(cfg.norms):
        if not lists[norm]:
            raise InputError(f"norm {norm} is asked for but has no budgets", field=f"{norm}_eps")
    return {norm: sorted(set(map(float, lists[norm]))) for norm in dict.fromkeys(cfg.norms)}


def run_adversarial_stage(
    cfg: AdversarialConfig,
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    name: str | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Attack the network at ``checkpoint`` on its test set and write ``adversarial.csv`` and ``adversarial.json``.

    Args:
        cfg: the settings (checked again here, so a hand-built config fails as a YAML one would).
        checkpoint: a training run folder or its ``best.pt``; the network needs a classification branch.
        out_dir: the output folder (its two files are overwritten).
        name: the model's name in the CSV (default: the run folder's name).
        device: ``cpu`` or ``cuda``.

    Returns:
        The JSON summary: settings, checkpoint, normalization, rows, ``suspect_gradient_masking`` and its
        ``gradient_masking_reasons``, and ``paths``.

    Raises:
        InputError: one line naming the file or config key of a bad setting or input.
    """
    from v1mtl.data.images import load_classification
    from v1mtl.evaluate.robustness_stage import _load_model

    cfg = config_from_dict(AdversarialConfig, config_to_dict(cfg), source="AdversarialConfig")
    budgets = _budgets(cfg)
    model, info = _load_model(checkpoint, name, device)
    data_cfg = info["data"]
    data_source = cfg.data or data_cfg.source
    data = load_classification(
        data_source, size=info["image_size"], seed=data_cfg.split_seed, builtin_counts=data_cfg.builtin_counts
    )
    if info["class_names"] and list(data.class_names) != info["class_names"]:
        raise InputError(
            f"the network was trained on other classes than this data set's {data.n_classes}",
            path=data_source,
            field="class_names",
        )
    batches = list(_batches(data.test, cfg.limit, cfg.batch_size, device))
    rows = evaluate_adversarial(
        model,
        batches,
        budgets,
        model_name=info["name"],
        steps=cfg.steps,
        restarts=cfg.restarts,
        eot_samples=cfg.eot_samples,
        random_start=cfg.random_start,
        seed=cfg.seed,
    )
    reasons = gradient_masking_reasons(rows, data.n_classes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / CSV_NAME, csv_rows(rows))
    summary = {
        "model": info["name"],
        "checkpoint": info["path"],
        "normalization": info["normalization"],
        "data": str(data_source),
        "n_classes": data.n_classes,
        "attack": "pgd",
        "step_size": f"{STEP_FACTOR} * eps / steps (Madry et al. 2018)",
        "settings": config_to_dict(cfg),
        "device": device,
        "rows": [{**asdict(r), "accuracy": r.accuracy} for r in rows],
        "suspect_gradient_masking": bool(reasons),
        "gradient_masking_reasons": reasons,
    }
    write_json(out_dir / SUMMARY_NAME, summary)
    return {**summary, "paths": [out_dir / CSV_NAME, out_dir / SUMMARY_NAME]}
