"""Robustness evaluation: top-1 accuracy of one or several classifiers on every condition of a corrupted source.

``evaluate_robustness`` streams the source one ``(corruption, severity)`` condition at a time and one batch at a
time, so memory stays bounded by the batch size; every model of a call sees the same corrupted batch (the
corruption is computed once). ``run_robustness`` does the same into an output folder: it saves the protocol
as JSON, rewrites the tidy CSV atomically after every condition, and on a rerun skips what is done.

Models take gray images in [0, 1], ``(batch, 1, H, W)``, and return logits ``(batch, classes)``; wrap a network
trained on normalized input with :class:`UnitRangeClassifier`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from v1mtl.common.atomic import write_json
from v1mtl.common.errors import InputError
from v1mtl.common.progress import bar_disabled
from v1mtl.evaluate.corrupted_sources import CorruptedSource
from v1mtl.evaluate.robustness_metrics import score, select_reference, write_corruption_scores, write_summary
from v1mtl.evaluate.robustness_plots import plot_accuracy_vs_severity
from v1mtl.evaluate.robustness_table import RobustnessRow, read_rows, write_rows

CSV_NAME = "robustness.csv"
PROTOCOL_NAME = "protocol.json"
SUMMARY_NAME = "summary.csv"
CORRUPTION_SCORES_NAME = "corruption_scores.csv"


class UnitRangeClassifier(nn.Module):
    """``x`` in [0, 1] -> ``net((x - mean) / std)``, the logits of a network trained on normalized input.

    Args:
        net: the network; called as ``net(x, task=task)`` (``MultiTaskNet``) or ``net(x)`` when ``task`` is None.
        mean, std: the normalization the network was trained with (e.g. ``TIN_GRAY_MEAN``, ``TIN_GRAY_STD``).
        task: the ``task`` argument of ``net``, or None for a plain classifier.
    """

    def __init__(self, net: nn.Module, mean: float, std: float, task: str | None = "classification"):
        super().__init__()
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.net = net
        self.mean = float(mean)
        self.std = float(std)
        self.task = task

    @property
    def stochastic(self) -> bool:
        """Whether the wrapped network draws noise in its forward pass."""
        return bool(getattr(self.net, "stochastic", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std
        return self.net(z) if self.task is None else self.net(z, task=self.task)


def _as_mapping(models: nn.Module | Mapping[str, nn.Module], model_name: str) -> dict[str, nn.Module]:
    if isinstance(models, nn.Module):
        return {model_name: models}
    if not models:
        raise InputError("no models to evaluate", field="models")
    return dict(models)


@torch.inference_mode()
def condition_seed(corruption: str, severity: float) -> int:
    """A seed of torch's generator for one condition, the same on every run (CRC-32 of its name)."""
    return zlib.crc32(f"{corruption}:{float(severity):g}".encode())


def evaluate_robustness(
    models: nn.Module | Mapping[str, nn.Module],
    source: CorruptedSource,
    *,
    model_name: str = "model",
    batch_size: int = 256,
    device: str = "cpu",
    skip: Iterable[tuple[str, str, float]] = (),
    on_condition: Callable[[list[RobustnessRow]], None] | None = None,
    progress: bool = True,
) -> list[RobustnessRow]:
    """Top-1 accuracy of every model on every condition of ``source``.

    Args:
        models: one classifier (named ``model_name``) or a mapping name -> classifier; each maps
            ``(batch, 1, H, W)`` float in [0, 1] to logits ``(batch, classes)``. They are put in eval mode.
        source: the corrupted test set (``OnTheFlySource``, ``GaussianSweepSource``, ``PreRenderedSource``).
        batch_size: images per batch.
        device: where the corruption and the forward pass run (``cpu``, ``cuda``).
        skip: ``(model, corruption, severity)`` triples already measured; a condition every model has done
            is not computed at all.
        on_condition: called with the new rows after every condition (used to save partial results).
        progress: show a tqdm bar over the conditions (drawn only when stderr is a terminal).

    Returns:
        The new rows, in condition order, then model order.
    """
    named = _as_mapping(models, model_name)
    for m in named.values():
        m.to(device).eval()
    done = {(m, c, float(s)) for m, c, s in skip}
    rows: list[RobustnessRow] = []
    conditions = source.conditions()
    bar = tqdm(conditions, desc="robustness", unit="condition", disable=bar_disabled(progress))
    for corruption, severity in bar:
        todo = [name for name in named if (name, corruption, severity) not in done]
        if not todo:
            continue
        bar.set_postfix_str(f"{corruption} {severity:g}")
        if any(getattr(named[name], "stochastic", False) for name in todo):
            # a network that draws noise (a VOneBlock) gives each condition the same draws on every run
            # and on a resume, whatever ran before it
            torch.manual_seed(condition_seed(corruption, severity))
        correct = dict.fromkeys(todo, 0)
        n = 0
        for images, labels in source.batches(corruption, severity, batch_size, device):
            labels = labels.to(device)
            n += int(labels.shape[0])
            for name in todo:
                pred = named[name](images).argmax(dim=1)
                correct[name] += int((pred == labels).sum())
        new = [
            RobustnessRow(
                model=name,
                source=source.source,
                preset=source.preset,
                jpeg_roundtrip=source.jpeg_roundtrip,
                space=source.space,
                corruption=corruption,
                severity=float(severity),
                n=n,
                correct=correct[name],
            )
            for name in todo
        ]
        rows += new
        if on_condition is not None:
            on_condition(new)
    return rows


def run_robustness(
    models: nn.Module | Mapping[str, nn.Module],
    source: CorruptedSource,
    out_dir: str | Path,
    *,
    model_name: str = "model",
    batch_size: int = 256,
    device: str = "cpu",
    details: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> Path:
    """Evaluate into ``out_dir``: ``protocol.json`` and the tidy ``robustness.csv``; resumable.

    The CSV is rewritten atomically after each condition. A rerun with the same protocol skips every
    ``(model, corruption, severity)`` already in the CSV and keeps the rows of other models, so several models
    can be evaluated into one folder one after the other. A different protocol in the folder is an error.

    Args:
        details: extra JSON-ready facts saved in ``protocol.json`` (checkpoint paths, data set, normalization).
        Other arguments: as :func:`evaluate_robustness`.

    Returns:
        The path of the CSV.
    """
    out_dir = Path(out_dir)
    named = _as_mapping(models, model_name)
    csv_path = out_dir / CSV_NAME
    protocol_path = out_dir / PROTOCOL_NAME
    protocol = json.loads(json.dumps(source.describe()))
    rows: list[RobustnessRow] = []
    previous_models: list[str] = []
    if csv_path.exists():
        saved = _read_protocol(protocol_path)
        if saved.get("protocol") != protocol:
            raise InputError(
                "this folder holds results of another protocol; choose another --out "
                f"(saved: {saved.get('protocol')}; now: {protocol})",
                path=protocol_path,
                field="protocol",
            )
        rows = read_rows(csv_path)
        previous_models = list(saved.get("models", []))
    all_models = previous_models + [m for m in named if m not in previous_models]
    write_json(protocol_path, {"protocol": protocol, "models": all_models, **(details or {})})

    order = {cond: i for i, cond in enumerate(source.conditions())}
    model_order = {m: i for i, m in enumerate(all_models)}

    def save(new: list[RobustnessRow]) -> None:
        rows.extend(new)
        rows.sort(
            key=lambda r: (model_order.get(r.model, len(model_order)), order.get(r.condition, len(order)))
        )
        write_rows(rows, csv_path)

    evaluate_robustness(
        named,
        source,
        batch_size=batch_size,
        device=device,
        skip=[(r.model, r.corruption, r.severity) for r in rows],
        on_condition=save,
        progress=progress,
    )
    if not csv_path.exists():
        write_rows(rows, csv_path)
    return csv_path


def _read_protocol(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(
            f"{CSV_NAME} exists but {PROTOCOL_NAME} is missing; cannot tell which protocol it holds",
            path=path,
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err}", path=path) from None


def combine_csvs(csv_paths: Sequence[str | Path]) -> list[RobustnessRow]:
    """The rows of several robustness CSVs. A model name found in more than one file (under the same protocol)
    is suffixed with its file's name, so each line of a plot stays one run."""
    tables = [(Path(p), read_rows(p)) for p in csv_paths]
    stems = [p.stem for p, _ in tables]
    labels = stems if len(set(stems)) == len(stems) else [f"{p.parent.name}/{p.stem}" for p, _ in tables]
    seen: dict[tuple, int] = {}
    for _, rows in tables:
        for key in {(r.model, r.protocol) for r in rows}:
            seen[key] = seen.get(key, 0) + 1
    out: list[RobustnessRow] = []
    for label, (_, rows) in zip(labels, tables, strict=True):
        for r in rows:
            out.append(replace(r, model=f"{r.model} ({label})") if seen[(r.model, r.protocol)] > 1 else r)
    return out


def summarize(
    csv_paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    reference: str | Path | None = None,
    reference_model: str | None = None,
) -> dict[str, Any]:
    """Summarize and plot robustness CSVs together into ``out_dir``.

    Writes ``summary.csv`` (clean accuracy, mean corruption accuracy, mCE, relative mCE per model and protocol),
    ``corruption_scores.csv`` (per corruption) and ``accuracy_vs_severity_<protocol>.png``.

    Args:
        csv_paths: robustness CSVs (``robustness.csv`` of earlier runs).
        reference: a robustness CSV holding the reference model, or None to take ``reference_model`` from
            the CSVs themselves, or to compute no mCE when that is None too.
        reference_model: the reference's model name (needed when its CSV holds several models).

    Returns:
        ``{"summaries": [ModelSummary...], "paths": [written files...]}``.
    """
    out_dir = Path(out_dir)
    rows = combine_csvs(csv_paths)
    ref_rows = None
    if reference is not None:
        ref_rows = select_reference(read_rows(reference), reference_model, reference)
    elif reference_model is not None:
        ref_rows = select_reference(rows, reference_model, ", ".join(map(str, csv_paths)))
    summaries, scores = score(rows, ref_rows, reference_path=reference)
    paths = [
        write_summary(summaries, out_dir / SUMMARY_NAME),
        write_corruption_scores(scores, out_dir / CORRUPTION_SCORES_NAME),
        *plot_accuracy_vs_severity(rows, out_dir),
    ]
    return {"summaries": summaries, "paths": paths}
