"""The reader metrics' statistics give statsmodels' figures without importing it.

Cohen's kappa (unweighted and linear) and its asymptotic 95 % interval are statsmodels'
``cohens_kappa`` formulas in numpy; the rates' Clopper–Pearson interval is the
endpoints' one, statsmodels' ``proportion_confint(method="beta")``. Checked here on
random 4 × 4 tables (CR, PR, SD, PD), sparse and degenerate ones included.
"""

import math
import random

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from mrecist_reader.analysis.reader_metrics import kappas, rate


def tables() -> list[list[list[int]]]:
    rng = random.Random(20261206)
    found = []
    for _ in range(300):
        zero_share = rng.choice([0.0, 0.3, 0.7])
        found.append(
            [
                [
                    0 if rng.random() < zero_share else rng.randint(0, 40)
                    for _ in range(4)
                ]
                for _ in range(4)
            ]
        )
    found.append([[10, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    found.append([[0, 0, 0, 0], [0, 5, 5, 0], [0, 5, 5, 0], [0, 0, 0, 0]])
    return [t for t in found if sum(map(sum, t))]


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs) or math.isinf(theirs):
        return math.isnan(ours) or ours == theirs
    return ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("table", tables())
def test_each_kappa_and_interval_is_statsmodels(table: list[list[int]]) -> None:
    found = kappas(table)
    assert found is not None
    counts = np.asarray(table, dtype=float)
    for (kappa, (low, high)), weights in zip(found, (None, "linear"), strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = cohens_kappa(counts, wt=weights)
        assert same(kappa, float(expected.kappa))
        assert same(low, float(expected.kappa_low))
        assert same(high, float(expected.kappa_upp))


@pytest.mark.parametrize(("k", "n"), [(0, 7), (1, 7), (3, 10), (10, 10), (72, 228)])
def test_a_rates_interval_is_statsmodels_clopper_pearson(k: int, n: int) -> None:
    value, interval = rate(k, n)
    low, high = proportion_confint(k, n, alpha=0.05, method="beta")
    assert value == k / n
    assert interval is not None
    assert interval == (pytest.approx(float(low)), pytest.approx(float(high)))
