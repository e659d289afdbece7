"""The reader metrics' rates use the endpoints' one Clopper–Pearson interval.

It is computed with ``scipy.special`` (the beta quantile ``scipy.stats.beta`` uses);
here it must equal statsmodels' ``proportion_confint(method="beta")``.
"""

import pytest
from statsmodels.stats.proportion import proportion_confint

from mrecist_reader.analysis.reader_metrics import rate


@pytest.mark.parametrize(("k", "n"), [(0, 7), (1, 7), (3, 10), (10, 10), (72, 228)])
def test_a_rates_interval_is_statsmodels_clopper_pearson(k: int, n: int) -> None:
    value, interval = rate(k, n)
    low, high = proportion_confint(k, n, alpha=0.05, method="beta")
    assert value == k / n
    assert interval is not None
    assert interval == (pytest.approx(float(low)), pytest.approx(float(high)))
