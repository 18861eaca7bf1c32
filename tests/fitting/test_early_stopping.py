"""Early stopping with restore-best rounds on synthetic score sequences.

Semantics of neural_cotraining ``trainer/early_stopping.py``.
"""

from __future__ import annotations

import math

from v1mtl.fitting import EarlyStopping


def run(scores, initial=0.0, **kw):
    es = EarlyStopping(**{"patience": 2, "threshold": 0.01, "rounds": 2, "max_epochs": 100, **kw})
    es.start(initial)
    out = []
    for s in scores:
        out.append(es.update(s))
        if es.finished:
            break
    return es, out


def test_round_without_improvement_ends_after_patience_epochs():
    es, out = run([0.0, 0.0, 0.0, 0.0], rounds=2)
    # counter 1, 2 -> round 1 ends; counter 1, 2 -> round 2 ends = stop
    assert [d for _, d in out] == ["continue", "restore", "continue", "stop"]
    assert es.best_epoch == 0 and es.epoch == 4


def test_after_an_improvement_a_round_needs_patience_plus_one_bad_epochs():
    es, out = run([0.5, 0.4, 0.4, 0.4, 0.6], rounds=2)
    # improvement sets the counter to -1: bad epochs take it to 0, 1, 2 -> restore after the 3rd
    assert [d for _, d in out] == ["continue", "continue", "continue", "restore", "continue"]
    assert [i for i, _ in out] == [True, False, False, False, True]
    assert es.best_epoch == 5 and es.round == 1


def test_threshold_is_absolute_and_strict():
    es, out = run([0.005, 0.0101, 0.0199, 0.03], initial=0.0, patience=5)
    assert [i for i, _ in out] == [False, True, False, True]
    assert es.best_score == 0.03


def test_max_epochs_and_nonfinite_stop():
    es, out = run([0.1, 0.2, 0.3], max_epochs=2)
    assert out[-1] == (True, "stop") and es.epoch == 2
    es, out = run([0.1, math.nan])
    assert out[-1] == (False, "stop") and es.best_score == 0.1


def test_state_round_trip():
    a, _ = run([0.5, 0.4])
    b = EarlyStopping(patience=0, threshold=0, rounds=1, max_epochs=1)
    b.load_state_dict(a.state_dict())
    assert b == a
    assert a.update(0.3) == b.update(0.3)
