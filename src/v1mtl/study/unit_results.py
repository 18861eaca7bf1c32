"""A finished unit's result in a few words, read from the files it wrote, for the study's one line per unit.

The driver reads these after the unit's marker is written, so they work whatever the executor (the files
are on the study's shared file system). A unit whose files cannot be summarized gets no words: the line
is for people, and a study never fails over it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from v1mtl.common.figure_style import NORM_LABELS
from v1mtl.common.tables import read_csv
from v1mtl.evaluate.robustness_metrics import score
from v1mtl.evaluate.robustness_table import read_rows
from v1mtl.neural_model.fit_health import failure_words, number


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _v1(folder: Path) -> str:
    manifest = _json(folder / "data" / "manifest.json")
    neurons = sum(s["n_neurons"] for s in manifest["sessions"])
    return f"{neurons} neurons in {len(manifest['sessions'])} sessions, {manifest['n_images']} images"


def _fit(folder: Path) -> str:
    s = _json(folder / "summary.json")
    failed = failure_words(s)
    if failed is not None:
        return failed
    return f"test FEVE {number(s['feve_mean'])}{_spread(s)}, correlation {number(s['test_corr_mean'])}"


def _spread(s: dict) -> str:
    """`` (median m, n of N neurons)``; '' for a summary written before the reliability criterion."""
    if "n_used" not in s:
        return ""
    return f" (median {number(s['feve_median'])}, {s['n_used']} of {s['n_total']} neurons)"


def _targets(folder: Path) -> str:
    return f"{_json(folder / 'data' / 'manifest.json')['n_images']} images"


def _train(folder: Path) -> str:
    final = _json(folder / "final.json")
    words = f"test accuracy {100 * final['test_accuracy']:.1f}%"
    fit = final.get("val_neural_corr")
    if fit is not None and math.isfinite(fit):
        words += f", fit to targets {fit:.3f}"
    return words + (", under-trained" if final.get("under_trained") else "")


def _robustness(folder: Path) -> str:
    (summary, *_), _ = score(read_rows(folder / "corruptions" / "robustness.csv"))
    words = f"mean corruption accuracy {100 * summary.mean_corruption_accuracy:.1f}%"
    clean = summary.clean_accuracy
    return words + (f" (clean {100 * clean:.1f}%)" if math.isfinite(clean) else "")


def _adversarial(folder: Path) -> str:
    """Per norm the accuracy at each budget, smallest first (``L∞ 54% 41% 3% 0%``), and the masking flag."""
    s = _json(folder / "adversarial.json")
    words = []
    for norm, label in NORM_LABELS.items():
        rows = sorted((r for r in s["rows"] if r["norm"] == norm), key=lambda r: r["eps"])
        if rows:
            words.append(label + " " + " ".join(f"{100 * r['accuracy']:.0f}%" for r in rows))
    masking = ", gradient masking suspected" if s["suspect_gradient_masking"] else ""
    return "accuracy under PGD " + ", ".join(words) + masking


def _predictivity(folder: Path) -> str:
    s = _json(folder / "summary.json")
    if s.get("status") == "failed":
        return f"failed: {s['failure']}"
    return f"FEVE {number(s['best']['feve_mean'])}{_spread(s['best'])} at {s['best_layer']}"


def _analysis(folder: Path) -> str:
    models = {r["model"] for r in read_csv(folder / "summary.csv")}
    return f"{len(models)} networks compared"


DESCRIBE: dict[str, Callable[[Path], str]] = {
    "v1": _v1,
    "fit": _fit,
    "targets": _targets,
    "train": _train,
    "robustness": _robustness,
    "adversarial": _adversarial,
    "predictivity": _predictivity,
    "analysis": _analysis,
}


def describe(stage: str, folder: Path) -> str:
    """The result of the finished unit of ``stage`` in ``folder``, in a few words ('' when there are none)."""
    summarize = DESCRIBE.get(stage)
    if summarize is None:
        return ""
    try:
        return summarize(folder)
    except (OSError, KeyError, ValueError, TypeError, ZeroDivisionError, IndexError):
        return ""
