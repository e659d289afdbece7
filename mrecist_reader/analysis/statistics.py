"""Exact and score intervals and tests for response rates (endpoints.md §Statistics).

Clopper–Pearson intervals, the Miettinen–Nurminen interval of a difference of two
rates, Fisher's exact test and the Cochran–Mantel–Haenszel test. scipy and statsmodels
compute what they compute correctly (each imported where it is used: ``scipy.stats``
alone takes most of a second to import, and the reader metrics need only the
Clopper–Pearson interval, from ``scipy.special``); the Miettinen–Nurminen interval is
computed here
from its published closed form, because statsmodels'
``confint_proportions_2indep(method="score")`` solves for the wrong constrained estimate
(statsmodels issue #10269).
"""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
"""Every interval's confidence level (endpoints.md: 95 %)."""


@dataclass(frozen=True, slots=True)
class TwoByTwo:
    """Responders and subjects of two groups (one stratum, or pooled)."""

    responders_1: int
    n_1: int
    responders_2: int
    n_2: int


def clopper_pearson(
    responders: int, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Return the exact (Clopper–Pearson) interval of a rate ``responders / n``.

    Raises
    ------
    ValueError
        When ``n`` is 0 or ``responders`` is not between 0 and ``n``.

    """
    if n <= 0 or not 0 <= responders <= n:
        raise ValueError(f"{responders}/{n} is not a rate (need 0 <= k <= n, n > 0)")
    from scipy.special import betaincinv  # the beta quantile scipy.stats.beta uses

    alpha = 1 - confidence
    low = (
        0.0
        if responders == 0
        else betaincinv(responders, n - responders + 1, alpha / 2)
    )
    high = (
        1.0
        if responders == n
        else betaincinv(responders + 1, n - responders, 1 - alpha / 2)
    )
    return float(low), float(high)


def _constrained_rates(table: TwoByTwo, difference: float) -> tuple[float, float]:
    """Return the maximum-likelihood rates under ``p1 - p2 = difference``.

    Miettinen & Nurminen (1985), closed form of the cubic's root as written by
    Farrington & Manning (1990).
    """
    p1 = table.responders_1 / table.n_1
    p2 = table.responders_2 / table.n_2
    theta = table.n_2 / table.n_1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + difference * (theta + 2))
    c = difference**2 + difference * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * difference * (1 + difference)
    v = b**3 / (27 * a**3) - b * c / (6 * a**2) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b**2 / (9 * a**2) - c / (3 * a), 0.0)), v)
    if u == 0:
        rate_1 = -b / (3 * a)
    else:
        w = (math.pi + math.acos(max(-1.0, min(1.0, v / u**3)))) / 3
        rate_1 = 2 * u * math.cos(w) - b / (3 * a)
    rate_1 = min(1.0, max(0.0, rate_1))
    return rate_1, min(1.0, max(0.0, rate_1 - difference))


def _mn_score(table: TwoByTwo, difference: float) -> float:
    """Return the Miettinen–Nurminen chi-square statistic for ``p1 - p2 = difference``."""
    observed = table.responders_1 / table.n_1 - table.responders_2 / table.n_2
    rate_1, rate_2 = _constrained_rates(table, difference)
    total = table.n_1 + table.n_2
    variance = (
        rate_1 * (1 - rate_1) / table.n_1 + rate_2 * (1 - rate_2) / table.n_2
    ) * (total / (total - 1))
    gap = observed - difference
    if variance <= 0:
        return math.inf if abs(gap) > 1e-15 else 0.0
    return gap**2 / variance


def miettinen_nurminen(
    table: TwoByTwo, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Return the Miettinen–Nurminen score interval of ``p1 - p2``.

    As R PropCIs ``diffscoreci`` and SAS ``RISKDIFF(CL=MN)``: the differences whose
    score statistic (with the variance factor N/(N-1)) stays below the chi-square
    quantile, found on each side of the observed difference with scipy's ``brentq``.

    Raises
    ------
    ValueError
        When a group has no subjects.

    """
    if table.n_1 <= 0 or table.n_2 <= 0 or table.n_1 + table.n_2 < 2:
        raise ValueError("each group needs at least one subject")
    from scipy import optimize, stats

    critical = float(stats.chi2.ppf(confidence, 1))
    observed = table.responders_1 / table.n_1 - table.responders_2 / table.n_2

    def excess(difference: float) -> float:
        return _mn_score(table, difference) - critical

    edge = 1 - 1e-10
    low = -1.0
    if observed > -edge and excess(-edge) > 0:
        low = float(optimize.brentq(excess, -edge, observed, xtol=1e-12))
    high = 1.0
    if observed < edge and excess(edge) > 0:
        high = float(optimize.brentq(excess, observed, edge, xtol=1e-12))
    return low, high


def fisher_exact_p(table: TwoByTwo) -> float:
    """Return Fisher's exact two-sided p-value of a 2×2 table (scipy)."""
    from scipy import stats

    result = stats.fisher_exact(
        [
            [table.responders_1, table.n_1 - table.responders_1],
            [table.responders_2, table.n_2 - table.responders_2],
        ],
        alternative="two-sided",
    )
    return float(result.pvalue)


def cmh_p(strata: Sequence[TwoByTwo]) -> float | None:
    """Return the Cochran–Mantel–Haenszel p-value without continuity correction.

    As SAS PROC FREQ's CMH "general association" for 2×2×K tables (statsmodels'
    ``StratifiedTable.test_null_odds(correction=False)``). Strata without both groups
    or without both outcomes add nothing to the statistic and are left out; ``None``
    when no stratum remains.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    tables = [
        [
            [s.responders_1, s.n_1 - s.responders_1],
            [s.responders_2, s.n_2 - s.responders_2],
        ]
        for s in strata
        if s.n_1 > 0
        and s.n_2 > 0
        and 0 < s.responders_1 + s.responders_2 < s.n_1 + s.n_2
    ]
    if not tables:
        return None
    result = StratifiedTable(tables).test_null_odds(correction=False)
    return float(result.pvalue)
