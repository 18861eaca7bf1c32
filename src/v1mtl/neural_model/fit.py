"""Fit the single-task V1 model: a VGG trunk ``features[:k]`` plus one Gaussian readout per session.

Protocol of the reference's ``neural_v1_model`` recipe (sinzlab/nntransfer_recipes
``neural_v1_model.py`` with sinzlab/neural_cotraining trainer code):

- loss per batch of one session: Poisson NLL summed over the batch and neurons, times
  ``sqrt(n_train_trials / batch)``, plus ``gamma_readout * sum|readout features|`` (``scale_loss=True``,
  docs/reference-implementation.md, 'Losses and task weighting');
- sessions visited round-robin, one batch each, and one optimizer step per round (``LongCycler``);
- Adam, lr 5e-4, weight decay 5e-4; ReduceLROnPlateau on the validation correlation (mode max, factor 0.5,
  patience 5, relative threshold 1e-6, min lr 1e-4) and early stopping on it (patience 5, 5 restore-best
  rounds, ``v1mtl.fitting.early_stopping``), at most 150 epochs (``trainer/early_stopping.py``);
- readout biases start at the mean response of each session's first training batch (``models/mtl_vgg.py``).

With ``core_from`` the trunk comes from a trained network and only fresh readouts are fitted when
``freeze_core``: the trunk's parameters get no gradient AND its BatchNorm layers stay in eval mode, so their
running statistics do not move (docs/reference-implementation.md, 'BatchNorm when freezing').

Every epoch ends with an atomic ``checkpoint.pt`` (model, optimizer, schedule, early stopping, history);
rerunning the same command resumes from it. The data order and the readouts' location sampling are seeded
per epoch, so a resumed run gives the same weights as an uninterrupted one.

A fit that failed (``v1mtl.neural_model.fit_health``: a non-finite loss, predictions far beyond every
response, or no gain in validation correlation over epoch 0) is retried ``training.retries`` times, each
time at ``training.retry_lr_factor`` times the previous learning rate (and minimum learning rate); the
failed attempt's files are moved to ``failed-<n>/``. A fit still failing then is marked failed: its
``summary.json`` holds ``status: failed``, the ``failure`` and the ``attempts``. Retries are v1mtl's, not
the reference's.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import torch
import yaml
from tqdm import tqdm

from v1mtl.common.atomic import remove_stale_temporaries, write_json, write_text
from v1mtl.common.config import check_config, config_to_dict, load_config, save_config
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.common.ranges import (
    BatchSize,
    Epochs,
    NonNegativeFloat,
    NonNegativeInt,
    OpenFraction,
    PixelValue,
    PositiveFloat,
    PositiveInt,
    Range,
    Seed,
)
from v1mtl.fitting import EarlyStopping, MetricsLog, RestoreBestLoop, load_checkpoint, save_checkpoint
from v1mtl.fitting.losses import poisson_loss, scaled_poisson_loss
from v1mtl.models import ModelConfig, MultiTaskNet, build_network
from v1mtl.models.vone import adopt_saved_banks
from v1mtl.neural_model.checkpoint import KIND, TRUNK_FIELDS, load_shared_core
from v1mtl.neural_model.evaluate import (
    MIN_EXPLAINABLE_VARIANCE,
    SCORE_COLUMNS,
    largest_prediction,
    summarize,
    test_scores,
    validation_correlation,
)
from v1mtl.neural_model.fit_health import fit_failure

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"
SUMMARY = "summary.json"
FAILED = "failed-"  # prefix of the folders a failed attempt's files move to
# what one attempt writes into its folder (a study unit's folder also holds the study's markers)
ATTEMPT_FILES = ("config.yaml", CHECKPOINT, MODEL, "scores.csv", SUMMARY, "metrics.jsonl")


@dataclass
class FitDataConfig:
    """The V1 dataset and how its stimuli become network input (``v1mtl.data.neural.loaders``).

    Attributes:
        path: the V1 dataset (any format ``read_v1`` knows); ``--data`` sets it.
        format: the dataset format, or None to detect it.
        crop, subsample, scale: stimulus preprocessing (the reference uses crop 36, scale 0.4 on its
            monkey stimuli; the simulated data need none).
        mean, std: z-scoring statistics in [0, 1] pixel units; None computes them from the stimuli.
        batch_size, test_batch_size: batch sizes (128 in the reference).
        train_fraction, split_seed: the train/validation split of image ids (0.8, seed 1000).
    """

    path: str | None = None
    format: str | None = None
    crop: Annotated[int, Range(0, 4096)] = 0
    subsample: Annotated[int, Range(1, 64)] = 1
    # upsampling more than 4x only multiplies the memory of the same information
    scale: Annotated[float, Range(0, 4, low_open=True)] = 1.0
    mean: PixelValue | None = None
    std: Annotated[float, Range(0, 1, low_open=True)] | None = None
    batch_size: BatchSize = 128
    test_batch_size: BatchSize = 64
    train_fraction: OpenFraction = 0.8
    split_seed: Seed = 1000


@dataclass
class FitTrainingConfig:
    """Optimization (defaults: the reference's single-task V1 model, recipe ``neural_v1_model.py``).

    Attributes:
        lr, weight_decay: Adam settings.
        max_epochs: epoch limit.
        patience, threshold, rounds: early stopping on the validation correlation.
        lr_decay, lr_patience, lr_threshold, min_lr: ReduceLROnPlateau on the same score (relative threshold).
        scale_loss: Poisson loss times sqrt(n_train / batch) plus the readouts' L1 penalty; False gives the
            plain summed Poisson loss.
        retries: how many times a failed fit (``fit_health``) is fitted again before it is marked failed.
        retry_lr_factor: each retry's learning rate (and minimum learning rate) relative to the previous
            attempt's.
    """

    lr: PositiveFloat = 5e-4
    weight_decay: NonNegativeFloat = 5e-4
    max_epochs: Epochs = 150
    patience: NonNegativeInt = 5
    threshold: NonNegativeFloat = 1e-6
    rounds: PositiveInt = 5
    lr_decay: OpenFraction = 0.5
    lr_patience: NonNegativeInt = 5
    lr_threshold: NonNegativeFloat = 1e-6
    min_lr: NonNegativeFloat = 1e-4
    scale_loss: bool = True
    retries: Annotated[int, Range(0, 10)] = 1
    retry_lr_factor: OpenFraction = 0.1


@dataclass
class FitNeuralConfig:
    """Everything ``v1mtl fit-neural`` needs (the resolved copy is saved as ``config.yaml``).

    Attributes:
        model: the trunk and readouts (the V1 model uses no classification head); default vgg19_bn[:17].
        data: the V1 dataset and its preprocessing.
        training: optimization.
        core_from: a trained network's checkpoint whose shared block becomes the trunk (trunk settings of
            ``model`` are then taken from it).
        freeze_core: keep that trunk fixed (weights and BatchNorm statistics) and fit only the readouts.
        seed: seeds weights, data order and readout sampling.
        device: ``cpu`` or ``cuda``.
        bf16: bfloat16 autocast for forward passes (losses stay float32).
        channels_last: channels-last memory format (faster convolutions on recent GPUs).
        progress: show progress bars (drawn only when stderr is a terminal).
        min_explainable_variance: the reliability threshold of the summaries over neurons (``summary.json``;
            ``scores.csv`` keeps every neuron); v1mtl's choice (``v1mtl.neural_model.evaluate``).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: FitDataConfig = field(default_factory=FitDataConfig)
    training: FitTrainingConfig = field(default_factory=FitTrainingConfig)
    core_from: str | None = None
    freeze_core: bool = False
    seed: Seed = 1000
    device: str = "cpu"
    bf16: bool = False
    channels_last: bool = False
    progress: bool = True
    min_explainable_variance: Annotated[float, Range(0, 1, high_open=True)] = MIN_EXPLAINABLE_VARIANCE


def _check(cfg: FitNeuralConfig) -> None:
    """The schema's ranges (for a config built in Python), then what they cannot say."""
    check_config(cfg)
    if cfg.device not in ("cpu", "cuda") and not cfg.device.startswith("cuda:"):
        raise InputError(f"expected cpu or cuda, got {cfg.device!r}", field="device")
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("CUDA is not available on this machine", field="device")
    if cfg.freeze_core and cfg.core_from is None:
        raise InputError("freeze_core needs core_from", field="freeze_core")
    cfg.model.validate()


def _resumable_view(cfg: FitNeuralConfig) -> dict[str, Any]:
    """The config minus what may change between a run and its resumption."""
    d = config_to_dict(cfg)
    # more retries continue a fit that failed; fewer leave a finished one as it is
    for key in ("max_epochs", "retries"):
        d["training"].pop(key)
    d.pop("progress")
    return d


def _set_core_frozen(net: MultiTaskNet, frozen: bool) -> None:
    """Frozen: the shared block has no gradients and its BatchNorm layers run in eval mode."""
    if not frozen:
        return
    for p in net.shared.parameters():
        p.requires_grad_(False)
    for m in net.shared.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _reseed(loaders: dict, seed: int) -> None:
    """Reseed every train loader's shuffling generator (``neural_loaders`` uses a seeded RandomSampler)."""
    for k, loader in enumerate(loaders.values()):
        generator = getattr(getattr(loader.sampler, "sampler", None), "generator", None)
        if generator is None:
            raise RuntimeError(
                "train loaders must shuffle with a torch.Generator (v1mtl.data.neural.loaders)"
            )
        generator.manual_seed(seed + k)


def _epoch_seed(cfg: FitNeuralConfig, epoch: int) -> int:
    return cfg.seed * 100_003 + epoch * 1_009


def _init_biases(net: MultiTaskNet, loaders: dict, device: torch.device) -> None:
    """Readout bias = mean response of the session's first training batch (recorded entries only)."""
    for session, loader in loaders.items():
        _, responses, mask = next(iter(loader))
        mean = (responses * mask).sum(0) / mask.sum(0).clamp(min=1)
        net.readouts.initialize_bias(session, mean.to(device))


def _build(cfg: FitNeuralConfig, loaders, device: torch.device, core) -> tuple[MultiTaskNet, ModelConfig]:
    model_cfg = cfg.model
    shared_state = None
    if core is not None:
        shared_state = core.state_dict
        model_cfg = replace(model_cfg, **{k: getattr(core.model_config, k) for k in TRUNK_FIELDS})
    torch.manual_seed(cfg.seed)
    _, h, w = loaders.input_shape
    net = build_network(
        model_cfg, n_classes=None, sessions=loaders.n_neurons, image_size=h, neural_image_size=(h, w)
    )
    if shared_state is not None:
        adopt_saved_banks(net.shared, shared_state)
        try:
            net.shared.load_state_dict(shared_state, strict=True)
        except RuntimeError as err:
            raise InputError(
                f"shared block does not fit: {err}", path=cfg.core_from, field="state_dict"
            ) from None
    net.to(device)
    if cfg.channels_last:
        net.to(memory_format=torch.channels_last)
    return net, model_cfg


def _optimizer(net: MultiTaskNet, cfg: FitNeuralConfig) -> tuple[torch.optim.Optimizer, Any]:
    t = cfg.training
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="max",
        factor=t.lr_decay,
        patience=t.lr_patience,
        threshold=t.lr_threshold,
        threshold_mode="rel",
        min_lr=t.min_lr,
    )
    return optimizer, scheduler


def _train_epoch(
    net: MultiTaskNet,
    loaders,
    optimizer: torch.optim.Optimizer,
    cfg: FitNeuralConfig,
    epoch: int,
    device: torch.device,
    n_train: dict[str, int],
) -> float:
    """One LongCycler pass; returns the mean loss per batch, or NaN as soon as a loss is not finite (the pass
    stops there, before that loss reaches the weights)."""
    from v1mtl.data.neural.loaders import round_robin

    seed = _epoch_seed(cfg, epoch)
    torch.manual_seed(seed)
    _reseed(loaders.train, seed)
    net.train()
    _set_core_frozen(net, cfg.freeze_core)
    active = [s for s, ld in loaders.train.items() if len(ld) > 0]
    total_batches = len(active) * max(len(loaders.train[s]) for s in active)
    optimizer.zero_grad(set_to_none=True)
    losses = []
    bar = tqdm(
        round_robin(loaders.train),
        total=total_batches,
        desc=f"epoch {epoch}",
        unit="batch",
        leave=False,
        disable=bar_disabled(cfg.progress),
    )
    for i, (session, (images, responses, mask)) in enumerate(bar):
        images = images.to(device, non_blocking=True)
        if cfg.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        responses, mask = responses.to(device), mask.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            pred = net(images, task="neural", session=session)
        pred = pred.float()
        if cfg.training.scale_loss:
            loss = scaled_poisson_loss(pred, responses, mask, n_train[session])
            loss = loss + net.readouts.regularizer(session)
        else:
            loss = poisson_loss(pred, responses, mask)
        if not torch.isfinite(loss):
            bar.close()
            return float("nan")
        loss.backward()
        losses.append(float(loss.detach()))
        if (i + 1) % len(active) == 0 or i + 1 == total_batches:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    return float(sum(losses) / max(len(losses), 1))


def _write_scores(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["session", "neuron", *SCORE_COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def fit_v1_model(
    cfg: FitNeuralConfig,
    dataset_path: str | Path | None,
    out_dir: str | Path,
    *,
    core_from: str | None = None,
    freeze_core: bool = False,
    device: str | None = None,
) -> dict:
    """Fit (or resume, or report the finished) V1 model of ``cfg`` on ``dataset_path``; returns the summary.

    ``dataset_path``, ``core_from``, ``freeze_core`` and ``device`` override the config's fields when given.
    Writes into ``out_dir``: ``config.yaml``, ``checkpoint.pt`` (every epoch), ``metrics.jsonl``, and at the
    end ``model.pt`` (best weights, see ``v1mtl.neural_model.checkpoint``), ``scores.csv`` (one row per
    neuron) and ``summary.json`` (with ``status`` ``ok`` or ``failed``, ``failure`` and ``attempts``). A
    failed attempt is retried (module docstring); its files move to ``failed-<n>/``. A finished run is
    reported and left as it is.
    """
    cfg = _resolved(cfg, dataset_path, core_from, freeze_core, device)
    out = Path(out_dir)
    t = cfg.training
    attempts = _failed_attempts(out)
    while True:
        attempt = _attempt_config(cfg, len(attempts))
        summary = _fit_once(attempt, out)
        failure = summary.get("failure")
        record = {"lr": attempt.training.lr, "failure": failure}
        if failure is None or len(attempts) >= t.retries:
            break
        # a retry starts afresh at a smaller learning rate; the failed attempt stays for inspection
        attempts.append(record | {"folder": _set_aside(out, len(attempts) + 1)})
    summary |= {"status": "ok" if failure is None else "failed", "failure": failure}
    summary["attempts"] = [*attempts, record | {"folder": "."}]
    write_json(out / SUMMARY, summary)
    return summary


def _resolved(
    cfg: FitNeuralConfig,
    dataset_path: str | Path | None,
    core_from: str | None,
    freeze_core: bool,
    device: str | None,
) -> FitNeuralConfig:
    """A checked copy of ``cfg`` with the call's overrides."""
    cfg = copy.deepcopy(cfg)
    if dataset_path is not None:
        cfg.data.path = str(dataset_path)
    if core_from is not None:
        cfg.core_from = str(core_from)
    cfg.freeze_core = cfg.freeze_core or freeze_core
    if device is not None:
        cfg.device = device
    if cfg.data.path is None:
        raise InputError("no V1 dataset given (pass --data or set data.path)", field="data.path")
    _check(cfg)
    return cfg


def _attempt_config(cfg: FitNeuralConfig, attempt: int) -> FitNeuralConfig:
    """The config of attempt ``attempt`` (0 = the first): learning rates times ``retry_lr_factor ** attempt``."""
    if attempt == 0:
        return cfg
    out = copy.deepcopy(cfg)
    scale = cfg.training.retry_lr_factor**attempt
    out.training.lr = cfg.training.lr * scale
    out.training.min_lr = cfg.training.min_lr * scale
    return out


def _failed_attempts(out: Path) -> list[dict]:
    """The attempts already set aside in ``out`` (``failed-1/``, ``failed-2/``, ...), in order."""
    attempts = []
    while (out / f"{FAILED}{len(attempts) + 1}" / SUMMARY).is_file():
        folder = f"{FAILED}{len(attempts) + 1}"
        s = json.loads((out / folder / SUMMARY).read_text())
        attempts.append({"lr": s.get("lr"), "failure": s.get("failure"), "folder": folder})
    return attempts


def _set_aside(out: Path, number: int) -> str:
    """Move a failed attempt's files from ``out`` into ``out/failed-<number>/``; returns that folder's name."""
    name = f"{FAILED}{number}"
    (out / name).mkdir(exist_ok=True)
    for file in ATTEMPT_FILES:
        if (out / file).exists():
            (out / file).replace(out / name / file)
    return name


def _fit_once(cfg: FitNeuralConfig, out: Path) -> dict:
    """One attempt in ``out`` (resumed from its checkpoint when there is one); returns its summary, whose
    ``failure`` says why the fit failed (None when it did not)."""
    from v1mtl.data.neural import ImageStats, read_v1
    from v1mtl.data.neural.loaders import build_loaders
    from v1mtl.data.neural.preprocess import check_unit_range

    core = load_shared_core(cfg.core_from) if cfg.core_from is not None else None
    if core is not None and core.normalization is not None and cfg.data.mean is None and cfg.data.std is None:
        # a trained trunk expects the input normalization it was trained with
        cfg.data.mean, cfg.data.std = core.normalization
    out.mkdir(parents=True, exist_ok=True)
    # what a killed run left half-written (checkpoint.pt.*.tmp); this run is the folder's only writer
    remove_stale_temporaries(out)
    ckpt_path = out / CHECKPOINT
    state = None
    if ckpt_path.is_file():
        state = load_checkpoint(ckpt_path)
        if _resumable_view(cfg) != state["resumable_config"]:
            raise InputError(
                "the folder holds a run with a different config (only training.max_epochs may change to "
                "continue it); use another --out",
                path=out / "config.yaml",
            )
    elif (out / "config.yaml").exists():
        # killed before the first checkpoint: start again if it is the same run
        previous = load_config(FitNeuralConfig, out / "config.yaml")
        if _resumable_view(previous) != _resumable_view(cfg):
            raise InputError("the folder holds a run with a different config; use another --out", path=out)
    save_config(cfg, out / "config.yaml")

    dev = torch.device(cfg.device)
    dataset = read_v1(cfg.data.path, cfg.data.format)
    check_unit_range(dataset.images, cfg.data.path)
    stats = None if cfg.data.mean is None or cfg.data.std is None else ImageStats(cfg.data.mean, cfg.data.std)
    loaders = build_loaders(
        dataset,
        batch_size=cfg.data.batch_size,
        test_batch_size=cfg.data.test_batch_size,
        crop=cfg.data.crop,
        subsample=cfg.data.subsample,
        scale=cfg.data.scale,
        stats=stats,
        train_frac=cfg.data.train_fraction,
        split_seed=cfg.data.split_seed,
        shuffle_seed=cfg.seed,
    )
    n_train = {s: len(ld.dataset) for s, ld in loaders.train.items()}
    if min(n_train.values()) == 0:
        empty = [s for s, n in n_train.items() if n == 0]
        raise InputError(f"sessions without training trials: {empty}", path=cfg.data.path, field="sessions")
    net, model_cfg = _build(cfg, loaders, dev, core)
    optimizer, scheduler = _optimizer(net, cfg)
    t = cfg.training
    stopper = EarlyStopping(
        patience=t.patience, threshold=t.threshold, rounds=t.rounds, max_epochs=t.max_epochs
    )
    loop = RestoreBestLoop(
        stopper,
        snapshot=lambda: {"net": net.state_dict()},
        restore=lambda best: net.load_state_dict(best["net"]),
        plateau=scheduler,
    )

    if state is None:
        _reseed(loaders.train, _epoch_seed(cfg, 1))
        _init_biases(net, loaders.train, dev)
        initial = validation_correlation(net, loaders.validation, dev, cfg.bf16)
        loop.start(initial)
        history: list[dict] = [{"epoch": 0, "val_corr": initial, "lr": t.lr}]
        epoch = 0
    else:
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        loop.load_state_dict({"stopper": state["stopper"], "best": {"net": state["best_state"]}})
        stopper.max_epochs = t.max_epochs
        history = state["history"]
        epoch = state["epoch"]
        if state["stopped_early"]:
            stopper.finished = True
        elif epoch < t.max_epochs:
            stopper.finished = False

    if stopper.finished or epoch >= t.max_epochs:
        if (out / SUMMARY).is_file() and (out / MODEL).is_file():
            print(f"fit-neural: {out} already holds a finished run; nothing to do")
            return json.loads((out / SUMMARY).read_text())
    else:
        epoch_bar = tqdm(
            total=t.max_epochs,
            initial=epoch,
            desc="fit-neural",
            unit="epoch",
            disable=bar_disabled(cfg.progress),
        )
        while not stopper.finished:
            epoch += 1
            start = time.perf_counter()
            train_loss = _train_epoch(net, loaders, optimizer, cfg, epoch, dev, n_train)
            val = validation_correlation(net, loaders.validation, dev, cfg.bf16)
            improved, decision = loop.end_epoch(val)
            if not math.isfinite(train_loss):
                stopper.finished = True  # diverged: more epochs from here only add to the damage
            stopped_early = (
                stopper.round >= t.rounds or not math.isfinite(val) or not math.isfinite(train_loss)
            )
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "val_corr": val,
                    "lr": optimizer.param_groups[0]["lr"],
                    "improved": improved,
                    "decision": decision,
                    "seconds": round(time.perf_counter() - start, 3),
                }
            )
            save_checkpoint(
                ckpt_path,
                {
                    "epoch": epoch,
                    "model": net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "stopper": stopper.state_dict(),
                    "stopped_early": stopped_early,
                    "best_state": loop.best["net"],
                    "history": history,
                    "resumable_config": _resumable_view(cfg),
                },
            )
            MetricsLog(out, enabled=True, tensorboard=False).write(history)
            epoch_bar.update(1)
            epoch_bar.set_postfix(val_corr=f"{val:.3f}", best=f"{stopper.best_score:.3f}")
        epoch_bar.close()

    loop.finish()
    MetricsLog(out, enabled=True, tensorboard=False).write(history)
    rows = test_scores(net, loaders.test, dev, cfg.bf16)
    _write_scores(out / "scores.csv", rows)
    peak = largest_prediction(net, [loaders.validation, loaders.test], dev, cfg.bf16)
    largest_response = _largest_response(dataset)
    summary = summarize(rows, cfg.min_explainable_variance) | {
        "best_epoch": stopper.best_epoch,
        "best_val_corr": stopper.best_score,
        "epochs": epoch,
        "stopped_early": stopper.round >= t.rounds,
        "dataset": cfg.data.path,
        "input_shape": list(loaders.input_shape),
        "lr": t.lr,
        "largest_prediction": peak,
        "largest_response": largest_response,
        "failure": fit_failure(history, peak, largest_response),
    }
    summary |= _ground_truth_ceiling(cfg.data.path, dataset, loaders)
    _save_model(out / MODEL, net, model_cfg, cfg, loaders)
    write_json(out / SUMMARY, summary)
    return summary


def _largest_response(dataset) -> float:
    """The largest recorded response of any trial (NaN = not recorded)."""
    import numpy as np

    peaks = [
        float(np.nanmax(r, initial=0.0))
        for s in dataset.sessions
        for r in (np.asarray(s.train_responses), np.asarray(s.test_responses))
    ]
    return max(peaks, default=0.0)


def _save_model(path: Path, net: MultiTaskNet, model_cfg: ModelConfig, cfg: FitNeuralConfig, loaders) -> None:
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    payload = {
        "kind": KIND,
        "model_config": config_to_dict(model_cfg),
        "state_dict": state,
        "sessions": dict(loaders.n_neurons),
        "input_shape": list(loaders.input_shape),
        "stats": loaders.stats.to_dict(),
        "preprocess": {"crop": cfg.data.crop, "subsample": cfg.data.subsample, "scale": cfg.data.scale},
        "dataset": cfg.data.path,
        "core_from": cfg.core_from,
        "freeze_core": cfg.freeze_core,
        "config": yaml.safe_load(yaml.safe_dump(config_to_dict(cfg))),
    }
    save_checkpoint(path, payload)


def _ground_truth_ceiling(path: str, dataset, loaders) -> dict:
    """For a simulated dataset: FEVE and correlations of the simulator's noise-free rates on the test set.

    This is the ceiling a perfect model would reach on these noisy test repeats.
    """
    import numpy as np

    from v1mtl.common import measures

    gt = Path(path) / "ground_truth"
    if not (gt / "test_rates.npy").is_file():
        return {}
    rates = np.load(gt / "test_rates.npy").astype(np.float64)
    ids = np.load(gt / "test_image_ids.npy")
    row_of = {int(i): r for r, i in enumerate(ids)}
    feve_all, corr_all = [], []
    start = 0
    for s in dataset.sessions:
        cols = np.arange(start, start + s.n_neurons)
        start += s.n_neurons
        rows = [row_of[int(i)] for i in s.test_image_ids]
        pred = rates[rows][:, cols]
        resp = np.asarray(s.test_responses, dtype=np.float64)
        feve_all.append(measures.feve(resp, pred))
        corr_all.append(measures.single_trial_corr(resp, pred))
    f, c = np.concatenate(feve_all), np.concatenate(corr_all)
    return {
        "ground_truth": {
            "feve_mean": float(np.nanmean(f)),
            "feve_median": float(np.nanmedian(f)),
            "test_corr_mean": float(np.nanmean(c)),
        }
    }
