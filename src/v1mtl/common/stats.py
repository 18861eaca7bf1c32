"""Summary statistics with bootstrap confidence intervals, and rank correlation.

All intervals are percentile bootstrap intervals (Efron & Tibshirani 1993, "An Introduction to the
Bootstrap", ch. 13): resample the units (images, models) with replacement ``n_boot`` times, recompute the
statistic, and take the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles. A fixed ``seed`` makes every
interval repeatable. Paired comparisons resample the same units for both members of a pair, so the
interval of a difference reflects the per-unit differences, not two independent spreads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# scipy.stats is imported inside the functions that use it: it takes about a second to import, and the
# constants here are read by configs that the command line builds its help from.

DEFAULT_N_BOOT = 2000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval over ``n`` units."""

    value: float
    ci_low: float
    ci_high: float
    n: int

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0."""
        return bool(self.ci_low > 0 or self.ci_high < 0)

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    return v[np.isfinite(v)]


def _interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_mean(
    values: np.ndarray, *, n_boot: int = DEFAULT_N_BOOT, level: float = DEFAULT_LEVEL, seed: int = 0
) -> Estimate:
    """Mean of ``values`` ``(n,)`` with a percentile bootstrap CI over the units; NaN values are dropped.

    With one unit the interval collapses to the value; with none everything is NaN.
    """
    v = _finite(values)
    if v.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    lo, hi = _interval(v[idx].mean(axis=1), level)
    return Estimate(float(v.mean()), lo, hi, int(v.size))


def paired_bootstrap_difference(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Mean of ``b - a`` over paired units ``(n,)`` with a bootstrap CI that resamples the pairs.

    Pairs where either member is NaN are dropped.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in length: {a.shape} vs {b.shape}")
    return bootstrap_mean(b - a, n_boot=n_boot, level=level, seed=seed)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of paired ``(n,)`` values (average ranks for ties); NaN if undefined."""
    from scipy import stats as sps

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired values differ in length: {x.shape} vs {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def bootstrap_spearman(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """Spearman correlation of paired ``(n,)`` values with a CI from resampling the pairs.

    Resamples in which every x (or every y) is tied have no defined correlation and are left out of the
    interval; with fewer than 3 pairs the interval is NaN.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    rho = spearman(x, y)
    if x.size < 3:
        return Estimate(rho, float("nan"), float("nan"), int(x.size))
    rng = np.random.default_rng(seed)
    boot = np.array([spearman(x[i], y[i]) for i in rng.integers(0, x.size, size=(n_boot, x.size))])
    lo, hi = _interval(boot, level)
    return Estimate(rho, lo, hi, int(x.size))


def t_mean(values: np.ndarray, *, level: float = DEFAULT_LEVEL) -> Estimate:
    """Mean of ``values`` ``(n,)`` with a Student-t interval (NaN dropped).

    For few independent units, such as training seeds, where a bootstrap over 2-5 values is too coarse.
    With one unit the interval is NaN: one seed says nothing about the spread across seeds.
    """
    from scipy import stats as sps

    v = _finite(values)
    if v.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    mean = float(v.mean())
    if v.size == 1:
        return Estimate(mean, float("nan"), float("nan"), 1)
    half = float(sps.t.ppf((1 + level) / 2, df=v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return Estimate(mean, mean - half, mean + half, int(v.size))


@dataclass(frozen=True)
class OlsTerm:
    """One coefficient of an ordinary least-squares fit, with its t-based interval and two-sided p-value."""

    name: str
    coefficient: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class OlsFit:
    """``y ~ 1 + x_1 + ... + x_k`` by ordinary least squares over ``n`` observations."""

    terms: dict[str, OlsTerm]
    n: int
    r_squared: float

    def __getitem__(self, name: str) -> OlsTerm:
        return self.terms[name]


def ols(y: np.ndarray, regressors: dict[str, np.ndarray], *, level: float = DEFAULT_LEVEL) -> OlsFit:
    """Fit ``y ~ Intercept + sum_j b_j x_j`` (observations with a NaN anywhere dropped).

    Classical OLS inference (e.g. Wooldridge, "Introductory Econometrics", ch. 3-4): ``b = (X'X)^-1 X'y``,
    residual variance ``s^2 = RSS / (n - p)``, standard errors ``sqrt(diag(s^2 (X'X)^-1))``, t intervals
    and two-sided p-values with ``n - p`` degrees of freedom; ``p`` counts the intercept. The statistics of
    statsmodels' ``smf.ols(...).fit()``, which the paper's authors used. With ``n <= p`` or collinear
    regressors everything but the coefficients is NaN.
    """
    from scipy import stats as sps

    y = np.asarray(y, dtype=np.float64).ravel()
    names = ["Intercept", *regressors]
    columns = [np.ones_like(y)] + [np.asarray(v, dtype=np.float64).ravel() for v in regressors.values()]
    X = np.column_stack(columns)
    keep = np.isfinite(y) & np.isfinite(X).all(axis=1)
    X, y = X[keep], y[keep]
    n, p = X.shape
    nan = float("nan")
    if n == 0:
        return OlsFit({k: OlsTerm(k, nan, nan, nan, nan, nan) for k in names}, 0, nan)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    tss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(resid @ resid) / tss if tss > 0 else nan
    dof = n - p
    if dof <= 0 or np.linalg.matrix_rank(X) < p:
        terms = {k: OlsTerm(k, float(b), nan, nan, nan, nan) for k, b in zip(names, beta, strict=True)}
        return OlsFit(terms, n, r2)
    s2 = float(resid @ resid) / dof
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    crit = float(sps.t.ppf((1 + level) / 2, df=dof))
    terms = {}
    for k, b, e in zip(names, beta, se, strict=True):
        t = b / e if e > 0 else (np.inf if b != 0 else nan)
        p_value = float(2 * sps.t.sf(abs(t), df=dof)) if np.isfinite(t) or np.isinf(t) else nan
        terms[k] = OlsTerm(k, float(b), float(e), float(b - crit * e), float(b + crit * e), p_value)
    return OlsFit(terms, n, r2)
