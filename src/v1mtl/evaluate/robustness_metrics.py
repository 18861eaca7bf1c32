"""Aggregate robustness metrics from tidy rows: clean accuracy, mean corruption accuracy, (relative) mCE.

Definitions (Hendrycks & Dietterich 2019, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019, section 3), with error ``E = 1 - accuracy``, model ``f``, reference model ``ref``,
corruption ``c`` and its severities ``s`` (``s > 0``):

- corruption error ``CE_c = sum_s E(f, c, s) / sum_s E(ref, c, s)``; ``mCE = mean_c CE_c``;
- relative ``rCE_c = sum_s (E(f, c, s) - E_clean(f)) / sum_s (E(ref, c, s) - E_clean(ref))``;
  ``relative mCE = mean_c rCE_c``.

The paper normalizes by AlexNet; here the reference is whatever model ``--reference`` names (e.g. the
Baseline). Values are ratios (1.0 = as robust as the reference), not percentages. Beside them,
``robustness_score`` is Safarani et al.'s relative robustness score against the same reference, in percent
(``v1mtl.evaluate.relative_robustness``; over the Gaussian sweep's levels for sweep-only rows). A ratio whose denominator is
0 is NaN, and so is a mean over corruptions that contains a NaN. Rows are only compared within one protocol
(source, preset, JPEG round trip, space).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from v1mtl.common.atomic import write_text
from v1mtl.common.errors import InputError
from v1mtl.evaluate.relative_robustness import relative_robustness, relative_sweep
from v1mtl.evaluate.robustness_table import CLEAN, GAUSSIAN_SWEEP, RobustnessRow, format_severity


@dataclass(frozen=True)
class CorruptionScore:
    """One model's scores on one corruption (over its severities)."""

    model: str
    source: str
    preset: str
    jpeg_roundtrip: bool
    space: str
    corruption: str
    severities: str
    mean_accuracy: float
    ce: float
    relative_ce: float
    robustness_score: float = math.nan


@dataclass(frozen=True)
class ModelSummary:
    """One model's aggregate scores under one protocol."""

    model: str
    source: str
    preset: str
    jpeg_roundtrip: bool
    space: str
    clean_accuracy: float
    mean_corruption_accuracy: float
    n_conditions: int
    reference: str
    mce: float
    relative_mce: float
    robustness_score: float = math.nan


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else math.nan


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _groups(rows: Sequence[RobustnessRow]) -> dict[tuple[str, tuple], list[RobustnessRow]]:
    out: dict[tuple[str, tuple], list[RobustnessRow]] = {}
    for r in rows:
        out.setdefault((r.model, r.protocol), []).append(r)
    return out


def _clean_error(rows: Sequence[RobustnessRow]) -> float:
    clean = [r for r in rows if r.corruption == CLEAN]
    return 1.0 - clean[0].accuracy if clean else math.nan


def _corrupted(rows: Sequence[RobustnessRow]) -> dict[str, dict[float, float]]:
    """corruption -> severity -> error, for the corrupted conditions (``s > 0``) only."""
    out: dict[str, dict[float, float]] = {}
    for r in rows:
        if r.corruption != CLEAN and r.severity > 0:
            out.setdefault(r.corruption, {})[r.severity] = 1.0 - r.accuracy
    return out


def select_reference(
    rows: Sequence[RobustnessRow], name: str | None, path: str | Path | None = None
) -> list[RobustnessRow]:
    """The rows of the reference model: ``name``, or the only model in ``rows`` when ``name`` is None.

    Raises:
        InputError: naming ``path`` when ``name`` is absent, or when it is None and ``rows`` hold several models.
    """
    models = list(dict.fromkeys(r.model for r in rows))
    if name is None:
        if len(models) != 1:
            raise InputError(
                f"holds {len(models)} models ({', '.join(models)}); name the reference with --reference-model",
                path=path,
                field="model",
            )
        name = models[0]
    if name not in models:
        raise InputError(f"no model named {name!r} (models: {', '.join(models)})", path=path, field="model")
    return [r for r in rows if r.model == name]


def score(
    rows: Sequence[RobustnessRow],
    reference: Sequence[RobustnessRow] | None = None,
    *,
    reference_path: str | Path | None = None,
) -> tuple[list[ModelSummary], list[CorruptionScore]]:
    """Per-model summaries and per-corruption scores of ``rows``, against ``reference`` (one model's rows).

    Without a reference, CE, relative CE, mCE and relative mCE are NaN.

    Raises:
        InputError: naming ``reference_path`` when the reference lacks the protocol or a
            ``(corruption, severity)`` condition that a model was measured on.
    """
    ref_groups = _groups(reference) if reference else {}
    ref_name = reference[0].model if reference else ""
    summaries: list[ModelSummary] = []
    scores: list[CorruptionScore] = []
    for (model, protocol), group in _groups(rows).items():
        errors = _corrupted(group)
        clean_err = _clean_error(group)
        ref_errors: dict[str, dict[float, float]] | None = None
        ref_clean_err = math.nan
        if reference:
            ref_rows = ref_groups.get((ref_name, protocol))
            if ref_rows is None:
                raise InputError(
                    f"the reference {ref_name!r} has no results for protocol "
                    f"(source, preset, jpeg_roundtrip, space) = {protocol} of model {model!r}",
                    path=reference_path,
                    field="source",
                )
            ref_errors = _corrupted(ref_rows)
            ref_clean_err = _clean_error(ref_rows)
        first = len(scores)
        ces: list[float] = []
        rces: list[float] = []
        for corruption, by_sev in errors.items():
            ce = rce = math.nan
            if ref_errors is not None:
                ref_sev = ref_errors.get(corruption, {})
                missing = [s for s in by_sev if s not in ref_sev]
                if missing:
                    raise InputError(
                        f"the reference {ref_name!r} lacks {corruption} at severity "
                        f"{', '.join(format_severity(s) for s in missing)} (protocol {protocol})",
                        path=reference_path,
                        field="severity",
                    )
                ce = _ratio(sum(by_sev.values()), sum(ref_sev[s] for s in by_sev))
                rce = _ratio(
                    sum(e - clean_err for e in by_sev.values()),
                    sum(ref_sev[s] - ref_clean_err for s in by_sev),
                )
            ces.append(ce)
            rces.append(rce)
            scores.append(
                CorruptionScore(
                    model,
                    *protocol,
                    corruption=corruption,
                    severities=" ".join(format_severity(s) for s in by_sev),
                    mean_accuracy=1.0 - _mean(list(by_sev.values())),
                    ce=ce,
                    relative_ce=rce,
                )
            )
        overall = math.nan
        if reference:  # every condition is known to have its reference by now
            relative = relative_robustness(group, ref_rows)
            sweep = relative_sweep(group, ref_rows)
            overall = relative.overall if relative.n_conditions else sweep
            for i in range(first, len(scores)):
                c = scores[i].corruption
                per = sweep if c == GAUSSIAN_SWEEP else relative.per_corruption.get(c, math.nan)
                scores[i] = replace(scores[i], robustness_score=per)
        all_errors = [e for by_sev in errors.values() for e in by_sev.values()]
        summaries.append(
            ModelSummary(
                model,
                *protocol,
                clean_accuracy=1.0 - clean_err,
                mean_corruption_accuracy=1.0 - _mean(all_errors),
                n_conditions=len(all_errors),
                reference=ref_name,
                mce=_mean(ces) if reference else math.nan,
                relative_mce=_mean(rces) if reference else math.nan,
                robustness_score=overall,
            )
        )
    return summaries, scores


def _to_csv(records: Sequence[ModelSummary] | Sequence[CorruptionScore], cls: type) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [f.name for f in fields(cls)]
    writer.writerow(names)
    for rec in records:
        out = []
        for name in names:
            v = getattr(rec, name)
            if isinstance(v, bool):
                out.append("true" if v else "false")
            elif isinstance(v, float):
                out.append("nan" if math.isnan(v) else f"{v:.6f}")
            else:
                out.append(v)
        writer.writerow(out)
    return buf.getvalue()


def write_summary(summaries: Sequence[ModelSummary], path: str | Path) -> Path:
    """Write one row per (model, protocol) as CSV, atomically."""
    write_text(path, _to_csv(summaries, ModelSummary))
    return Path(path)


def write_corruption_scores(scores: Sequence[CorruptionScore], path: str | Path) -> Path:
    """Write one row per (model, protocol, corruption) as CSV, atomically."""
    write_text(path, _to_csv(scores, CorruptionScore))
    return Path(path)
