"""The co-training loop: one function, ``train(cfg, out_dir)``, resumable from its run folder.

Per epoch (docs/training.md): interleaved steps (``schedule.interleave``: auxiliary batches first, neural
or, for ``pixel-similarity``, image batches of the similarity task; backward after each batch, one optimizer
step after the classification batch), then validation accuracy (plus the
neural validation correlation, logged only), the LR schedule and early stopping (``optim``), and an atomic
checkpoint. At the end the best weights are evaluated on the clean test split and on the targets' test
images, the convergence check runs (``convergence``), and ``final.json`` is written; rerunning a finished
run prints so and does nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from v1mtl.common.atomic import remove_stale_temporaries, write_json
from v1mtl.common.config import config_to_dict, read_yaml, save_config
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.data.images import ClassificationBatches, ClassificationData, ImageSplit, load_classification
from v1mtl.fitting import MetricsLog, RestoreBestLoop, save_checkpoint
from v1mtl.models import build_network
from v1mtl.training import distributed
from v1mtl.training.checkpoint import (
    BEST,
    FORMAT_VERSION,
    LAST,
    NETWORK_KIND,
    STATE_KIND,
    read_checkpoint,
)
from v1mtl.training.conditions import prepare_targets
from v1mtl.training.config import TrainConfig
from v1mtl.training.convergence import convergence
from v1mtl.training.distributed import DistInfo
from v1mtl.training.neural_data import (
    NeuralTask,
    build_neural_task,
    epoch_batches,
    epoch_generator,
    epoch_seed,
)
from v1mtl.training.noise import add_noise_normalized
from v1mtl.training.objective import CoTrainingObjective
from v1mtl.training.optim import build_early_stopping, build_optimizer, build_scheduler, steps_per_batch
from v1mtl.training.pixel_similarity import similarity_batches, similarity_matrix
from v1mtl.training.schedule import interleave
from v1mtl.training.validation import accuracy, neural_correlation

CONFIG_FILE = "config.yaml"
FINAL = "final.json"
# Settings that may change between a run and its resume without changing what is computed.
RESUMABLE_CHANGES = ("device", "logging")

# Streams of ``epoch_generator``: one per use, so that switching one use on or off leaves the others alone.
STREAM_CLASSIFICATION, STREAM_NOISE, STREAM_GLOBAL, STREAM_SIMILARITY = 0, 1, 2, 3
# the one "session" of the similarity task in ``schedule.interleave``
SIMILARITY_SOURCE = "pixels"


def train(cfg: TrainConfig, out_dir: str | Path) -> dict[str, Any]:
    """Train (or resume, or find finished) the run of ``cfg`` in ``out_dir``; return ``final.json``'s content.

    Launched by ``torchrun``, every process calls this; only rank 0 writes files.
    """
    cfg.validate()
    out = Path(out_dir)
    info = distributed.setup(cfg.device)
    try:
        final = out / FINAL
        if final.is_file():
            if info.is_main:
                print(f"v1mtl: {out} is a finished run (final.json exists); nothing to do")
            return json.loads(final.read_text())
        _check_same_run(cfg, out)
        if info.is_main:
            out.mkdir(parents=True, exist_ok=True)
            # what a killed run left half-written (last.pt.*.tmp, an Oracle's targets.*.partial); the main
            # process is the folder's only writer and has not started writing
            remove_stale_temporaries(out)
            save_config(cfg, out / CONFIG_FILE)
        return Trainer(cfg, out, info).run()
    finally:
        distributed.teardown(info)


def _check_same_run(cfg: TrainConfig, out: Path) -> None:
    saved = out / CONFIG_FILE
    if not (saved.is_file() and (out / LAST).is_file()):
        return
    old = read_yaml(saved)
    new = config_to_dict(cfg)
    for key in RESUMABLE_CHANGES:
        old.pop(key, None)
        new.pop(key, None)
    if old != new:
        # str: a damaged config.yaml may have keys of any type; five keys say enough
        changed = sorted(str(k) for k in set(old) | set(new) if old.get(k) != new.get(k))
        shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
        raise InputError(
            f"the folder holds a run with a different config (differs in {shown}); "
            "rerun with the same config to resume, or choose another --out",
            path=saved,
        )


def _device(cfg: TrainConfig, info: DistInfo) -> torch.device:
    if cfg.device == "cuda":
        if not torch.cuda.is_available():
            raise InputError("CUDA is not available on this machine", field="device")
        return torch.device("cuda", info.local_rank)
    return torch.device("cpu")


def _seed_all(seed: int) -> None:
    torch.manual_seed(seed)  # seeds CUDA devices too


class Trainer:
    """State of one run; ``run()`` trains to the end."""

    def __init__(self, cfg: TrainConfig, out: Path, info: DistInfo):
        self.cfg, self.out, self.info = cfg, out, info
        self.device = _device(cfg, info)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        self.norm = (cfg.data.mean, cfg.data.std)
        self.data = self._load_classification()
        self.neural: NeuralTask | None = None
        targets = prepare_targets(cfg, out, info, self.device)
        if targets is not None:
            self.neural = build_neural_task(
                targets,
                mean=cfg.data.mean,
                std=cfg.data.std,
                train_fraction=cfg.neural.train_fraction,
                split_seed=cfg.neural.split_seed,
                standardize=cfg.neural.target_scaling == "standardize",
            )
            if not self.neural.train:
                raise InputError("no session has training trials", path=cfg.neural.targets, field="sessions")
        _seed_all(cfg.seed)
        self.net = build_network(
            cfg.model,
            n_classes=self.data.n_classes,
            sessions=self.neural.n_neurons if self.neural else None,
            image_size=cfg.data.image_size,
            neural_image_size=self.neural.image_size if self.neural else None,
        )
        auxiliary = cfg.auxiliary_task
        self.objective = CoTrainingObjective(
            self.net,
            "none" if auxiliary is None else cfg.neural.weighting,
            cfg.neural.loss,
            cfg.neural.fixed_weights,
            auxiliary=auxiliary or "neural",
        )
        self.objective.to(self.device)
        if cfg.channels_last:
            self.objective.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(self.objective.parameters(), cfg)
        self.scheduler = build_scheduler(self.optimizer, cfg, self._steps_per_epoch())
        self.stopper = build_early_stopping(cfg)
        # A round of patience ends by putting the best network weights back; the learned loss weights go
        # on (docstring of ``v1mtl.fitting.early_stopping``) and are restored with the network at the end.
        self.loop = RestoreBestLoop(
            self.stopper,
            snapshot=lambda: {
                "net": self.net.state_dict(),
                "loss_weights": self.objective.loss_weights.state_dict(),
            },
            restore=lambda best: self.net.load_state_dict(best["net"]),
            plateau=None if steps_per_batch(cfg) else self.scheduler,
        )
        self.history: list[dict[str, Any]] = []
        self.model = self.objective
        if info.enabled:
            # A neural batch leaves the classification branch unused and vice versa.
            self.model = nn.parallel.DistributedDataParallel(
                self.objective,
                device_ids=[info.local_rank] if self.device.type == "cuda" else None,
                find_unused_parameters=True,
            )

    # ---------------------------------------------------------------------------------------------------
    def _load_classification(self) -> ClassificationData:
        c = self.cfg.data

        def load() -> ClassificationData:
            return load_classification(
                c.source, size=c.image_size, seed=c.split_seed, builtin_counts=tuple(c.builtin_counts)
            )

        # Rank 0 fills the decode cache first, so processes do not race to write it.
        data = load() if self.info.is_main else None
        distributed.barrier(self.info)
        return data if data is not None else load()

    def _steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: the classification batches of this process's shard."""
        batches = ClassificationBatches(
            self.data.train,
            self.cfg.data.batch_size,
            shuffle=False,
            rank=self.info.rank,
            world_size=self.info.world_size,
        )
        return len(batches)

    def _autocast(self):
        if not self.cfg.bf16:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _val_noise(self) -> dict | None:
        n = self.cfg.noise
        if self.cfg.condition != "noise-augmented" or not n.validation:
            return None
        return {"stds": n.stds, "probs": n.probs, "space": n.space, "seed": self.cfg.seed}

    def _accuracy(self, split: ImageSplit, noise: dict | None = None) -> tuple[float, int]:
        """Top-1 accuracy and image count on ``split`` with the run's evaluation settings."""
        return accuracy(
            self.net,
            split,
            batch_size=self.cfg.data.eval_batch_size,
            normalize=self.norm,
            device=self.device,
            info=self.info,
            autocast=self.cfg.bf16,
            channels_last=self.cfg.channels_last,
            noise=noise,
        )

    def _validate(self) -> tuple[float, float]:
        acc, _ = self._accuracy(self.data.val, noise=self._val_noise())
        corr = self._neural_fit("val")
        return acc, float("nan") if corr is None else corr

    # ---------------------------------------------------------------------------------------------------
    def _init_readout_bias(self) -> None:
        """Readout bias = mean target of the session's first training batch (as the reference,
        neural_cotraining ``models/mtl_vgg.py``)."""
        for sid, source in epoch_batches(
            self.neural, self.cfg.neural.batch_size, self.cfg.seed, 1, self.info.rank, self.info.world_size
        ).items():
            _, y, mask = next(source)
            mean = (y * mask).sum(0) / mask.sum(0).clamp(min=1)
            self.net.readouts.initialize_bias(sid, mean)

    def _start(self) -> None:
        if self.neural is not None:
            self._init_readout_bias()
        score, _ = self._validate()
        self.loop.start(score)

    def _resume(self, ckpt: dict[str, Any]) -> None:
        self.net.load_state_dict(ckpt["state_dict"])
        self.objective.loss_weights.load_state_dict(ckpt["loss_weights"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.loop.load_state_dict(
            {
                "stopper": ckpt["early_stopping"],
                "best": {"net": ckpt["best_state_dict"], "loss_weights": ckpt["best_loss_weights"]},
            }
        )
        self.history = list(ckpt["history"])

    def run(self) -> dict[str, Any]:
        last = self.out / LAST
        if last.is_file():
            self._resume(read_checkpoint(last, STATE_KIND))
            if self.info.is_main:
                print(f"v1mtl: resuming {self.out} after epoch {self.stopper.epoch}")
        else:
            self._start()
        log = MetricsLog(
            self.out,
            enabled=self.info.is_main,
            tensorboard=self.cfg.logging.tensorboard,
            start_epoch=self.stopper.epoch,
        )
        try:
            while not self.stopper.finished:
                self._epoch(self.stopper.epoch + 1, log)
        finally:
            log.close()
        return self._finish()

    # ---------------------------------------------------------------------------------------------------
    def _epoch(self, epoch: int, log: MetricsLog) -> None:
        started = time.perf_counter()
        train_stats = self.train_epoch(epoch)
        val_acc, val_corr = self._validate()
        improved, decision = self.loop.end_epoch(val_acc)
        if improved and self.info.is_main:
            save_checkpoint(self.out / BEST, self._network_payload(epoch, val_acc))
        record: dict[str, Any] = {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"], **train_stats}
        for task, s in self.objective.weight_values().items():
            record[f"weight_{task}"] = float(np.exp(s))
            record[f"log_weight_{task}"] = s
        record.update(val_accuracy=val_acc, val_neural_corr=val_corr, improved=improved, decision=decision)
        record["epoch_time_s"] = time.perf_counter() - started
        self.history.append(record)
        if self.info.is_main:
            save_checkpoint(self.out / LAST, self._state_payload(epoch))
            log.write(self.history)
            print(
                f"epoch {epoch}: val accuracy {val_acc:.4f}"
                + (f", val corr {val_corr:.3f}" if self.neural is not None else "")
                + f", lr {record['lr']:.3g}, {decision}"
            )
        distributed.barrier(self.info)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One epoch of interleaved steps; returns the epoch's mean losses and training accuracy."""
        cfg, info = self.cfg, self.info
        torch.manual_seed(epoch_seed(cfg.seed, epoch, STREAM_GLOBAL + 100 * info.rank))
        self.objective.train()
        batches = ClassificationBatches(
            self.data.train,
            cfg.data.batch_size,
            shuffle=True,
            generator=epoch_generator(cfg.seed, epoch, STREAM_CLASSIFICATION),
            augment=cfg.data.augment,
            normalize=self.norm,
            device=self.device,
            rank=info.rank,
            world_size=info.world_size,
        )
        sources: dict = {}
        sessions: list[str] = []
        if self.neural is not None:
            sources = epoch_batches(
                self.neural, cfg.neural.batch_size, cfg.seed, epoch, info.rank, info.world_size
            )
            sessions = self.neural.sessions
        elif cfg.auxiliary_task == "similarity":
            sources = {SIMILARITY_SOURCE: self._similarity_source(epoch)}
            sessions = [SIMILARITY_SOURCE]
        noise_gen = epoch_generator(cfg.seed, epoch, STREAM_NOISE + 100 * info.rank)
        sums = torch.zeros(5, dtype=torch.float64)  # ce * n, correct, n, auxiliary loss, auxiliary batches
        bar = tqdm(
            total=len(batches),
            desc=f"epoch {epoch}",
            unit="step",
            leave=False,
            disable=bar_disabled(info.is_main and cfg.logging.progress),
        )
        per_step_schedule = steps_per_batch(cfg)
        self.optimizer.zero_grad(set_to_none=True)
        for step, (x, y) in zip(interleave(len(batches), sessions, cfg.neural.ratio), batches, strict=True):
            for sid in step.neural_sessions:
                xn, yn, task, session, mask = self._auxiliary_batch(sid, sources)
                if cfg.channels_last:
                    xn = xn.contiguous(memory_format=torch.channels_last)
                # Gradients accumulate locally; DDP averages them at the classification backward.
                sync = self.model.no_sync() if info.enabled else nullcontext()
                with sync:
                    with self._autocast():
                        loss, raw, _ = self.model(xn, yn, task, session, mask)
                    loss.backward()
                sums[3] += raw.item()
                sums[4] += 1
            if cfg.condition == "noise-augmented":
                x = add_noise_normalized(
                    x, *self.norm, cfg.noise.stds, cfg.noise.probs, noise_gen, space=cfg.noise.space
                )
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with self._autocast():
                loss, raw, logits = self.model(x, y, "classification")
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            if per_step_schedule:
                self.scheduler.step()
            sums[0] += raw.item() * len(y)
            sums[1] += (logits.argmax(1) == y).sum().item()
            sums[2] += len(y)
            bar.update(1)
        bar.close()
        sums = distributed.all_sum(sums, info)
        stats = {
            "train_classification_loss": float(sums[0] / sums[2]),
            "train_accuracy": float(sums[1] / sums[2]),
        }
        if sums[4] > 0:
            stats[f"train_{cfg.auxiliary_task}_loss"] = float(sums[3] / sums[4])
        return stats

    def _similarity_source(self, epoch: int) -> Iterator[torch.Tensor]:
        """The epoch's endless image batches of the similarity task (its own stream, so the classification
        batches are those of a run without it)."""
        return similarity_batches(
            self.data.train,
            self.cfg.neural.batch_size,
            epoch_generator(self.cfg.seed, epoch, STREAM_SIMILARITY),
            normalize=self.norm,
            device=self.device,
            rank=self.info.rank,
            world_size=self.info.world_size,
        )

    def _auxiliary_batch(
        self, source: str, sources: dict
    ) -> tuple[torch.Tensor, torch.Tensor, str, str | None, torch.Tensor | None]:
        """``(x, target, task, session, mask)`` of the next auxiliary batch from ``sources[source]``: a
        session's neural batch, or images with their pixel similarities ``(batch, batch)`` as the target."""
        if self.neural is not None:
            x, y, mask = (t.to(self.device, non_blocking=True) for t in next(sources[source]))
            return x, y, "neural", source, mask
        x = next(sources[source])
        return x, similarity_matrix(x), "similarity", None, None

    # ---------------------------------------------------------------------------------------------------
    def _network_payload(self, epoch: int, val_accuracy: float) -> dict[str, Any]:
        return {
            "kind": NETWORK_KIND,
            "format_version": FORMAT_VERSION,
            "model_config": config_to_dict(self.cfg.model),
            "state_dict": self.net.state_dict(),
            "loss_weights": self.objective.loss_weights.state_dict(),
            "n_classes": self.data.n_classes,
            "class_names": list(self.data.class_names),
            "sessions": dict(self.neural.n_neurons) if self.neural else {},
            "target_scaling": {sid: t.to_dict() for sid, t in self.neural.scaling.items()}
            if self.neural
            else {},
            "image_size": self.cfg.data.image_size,
            "neural_image_size": self.neural.image_size if self.neural else None,
            "normalization": {"mean": self.cfg.data.mean, "std": self.cfg.data.std},
            "config": config_to_dict(self.cfg),
            "epoch": epoch,
            "val_accuracy": val_accuracy,
        }

    def _state_payload(self, epoch: int) -> dict[str, Any]:
        payload = self._network_payload(epoch, self.history[-1]["val_accuracy"])
        payload.update(
            kind=STATE_KIND,
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            early_stopping=self.stopper.state_dict(),
            best_state_dict=self.loop.best["net"],
            best_loss_weights=self.loop.best["loss_weights"],
            history=self.history,
        )
        return payload

    def _neural_fit(self, split: str) -> float | None:
        """Mean correlation of the network's neural predictions with its targets on ``split`` (rank 0)."""
        if self.neural is None or not self.info.is_main:
            return None
        value = neural_correlation(
            self.net,
            self.neural,
            batch_size=self.cfg.data.eval_batch_size,
            device=self.device,
            autocast=self.cfg.bf16,
            split=split,
        )
        return value if np.isfinite(value) else None

    def _finish(self) -> dict[str, Any]:
        """Evaluate the best (= current) weights on the clean test split; write best.pt and final.json."""
        self.loop.finish()
        self.objective.loss_weights.load_state_dict(self.loop.best["loss_weights"])
        # Read the test split itself (the reference's HEAD returned the last validation score; see
        # docs/reference-implementation.md, 'Final score').
        test_acc, n_test = self._accuracy(self.data.test)
        best_epoch = self.stopper.best_epoch
        initial = self.stopper.initial_score
        check = convergence(
            [r["val_accuracy"] for r in self.history],
            initial=initial if initial is not None else -np.inf,
            n_val=len(self.data.val),
            stopped_early=self.stopper.round >= self.stopper.rounds,
        )
        result = {
            "condition": self.cfg.condition,
            "seed": self.cfg.seed,
            "test_accuracy": test_acc,
            "test_images": n_test,
            "n_classes": self.data.n_classes,
            "best_epoch": best_epoch,
            "best_val_accuracy": self.stopper.best_score,
            "epochs_trained": self.stopper.epoch,
            "val_neural_corr": self._neural_fit("val"),
            "test_neural_corr": self._neural_fit("test"),
            "under_trained": check["under_trained"],
            "convergence": check,
            "train_time_s": float(sum(r["epoch_time_s"] for r in self.history)),
        }
        if self.info.is_main:
            save_checkpoint(self.out / BEST, self._network_payload(best_epoch, self.stopper.best_score))
            write_json(self.out / FINAL, result)
            flag = (
                " (under-trained: validation accuracy still rising at max_epochs)"
                if check["under_trained"]
                else ""
            )
            print(f"v1mtl: finished {self.out}: test accuracy {test_acc:.4f} (best epoch {best_epoch}){flag}")
        distributed.barrier(self.info)
        return result
