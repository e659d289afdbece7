"""Reader metrics of a double read: statistics, CSV rows and figures.

central-review.md §Reader metrics. The counts come from the pure
:mod:`mrecist_reader.core.reader_metrics`; this module turns them into figures:
Clopper–Pearson intervals of the rates (the endpoints' own,
:func:`mrecist_reader.analysis.statistics.clopper_pearson`, scipy), Cohen's kappa
unweighted and linearly weighted over the fixed 4 × 4 table CR, PR, SD, PD with its
asymptotic 95 % interval (statsmodels' ``cohens_kappa``), Bland–Altman limits (reader 1 − reader 2, mean ±
1.96 sample standard deviations, numpy), the p-chart of the monthly adjudication
rate, and the figures (matplotlib without pyplot). The heavy libraries are imported
when first used, so the command line's ``--help`` stays quick.
"""

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mrecist_reader.analysis.statistics import clopper_pearson
from mrecist_reader.core.reader_metrics import (
    ControlLimits,
    PairCounts,
    ReaderCounts,
    SubjectDoubleRead,
    monthly_rates,
    p_chart,
    pair_counts,
    reader_counts,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METRICS_FILE = "reader_metrics.csv"
FIGURES_DIR = "figures"
PCHART_FILE = "adjudication_pchart.csv"
METRIC_COLUMNS: tuple[str, ...] = (
    "scope",
    "who",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
)
PCHART_COLUMNS: tuple[str, ...] = (
    "month",
    "n",
    "discordant",
    "rate",
    "centre",
    "lower_limit",
    "upper_limit",
    "out_of_control",
)

Row = dict[str, str]


def metric_rows(subjects: Sequence[SubjectDoubleRead]) -> list[Row]:
    """Return reader_metrics.csv's rows: overall, per pair, per reader."""
    rows = _pair_rows("overall", "", pair_counts(subjects))
    for pair in sorted({s.pair for s in subjects}):
        counts = pair_counts(s for s in subjects if s.pair == pair)
        rows += _pair_rows("pair", pair, counts)
    for reader, counts_of_reader in reader_counts(subjects).items():
        rows += _reader_rows(reader, counts_of_reader)
    return rows


def _row(
    scope: str,
    who: str,
    metric: str,
    value: float | None,
    interval: tuple[float, float] | None = None,
    *,
    n: int,
) -> Row:
    low, high = interval if interval is not None else (None, None)
    return {
        "scope": scope,
        "who": who,
        "metric": metric,
        "value": _number(value),
        "ci_low": _number(low),
        "ci_high": _number(high),
        "n": str(n),
    }


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return ""
    return f"{value:.4f}"


def rate(successes: int, n: int) -> tuple[float | None, tuple[float, float] | None]:
    """Return a rate and its Clopper–Pearson 95 % interval (``None`` when n is 0)."""
    if n == 0:
        return None, None
    return successes / n, clopper_pearson(successes, n)


def kappas(
    table: list[list[int]],
) -> tuple[tuple[float, tuple[float, float]], tuple[float, tuple[float, float]]] | None:
    """Return Cohen's kappa, unweighted and linearly weighted, with asymptotic 95 % CIs.

    statsmodels' ``cohens_kappa`` on the fixed 4 × 4 table (``None``: an empty table).
    """
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    counts = np.asarray(table, dtype=float)
    if counts.sum() == 0:
        return None
    found = []
    for weights in (None, "linear"):
        with np.errstate(divide="ignore", invalid="ignore"):
            result = cohens_kappa(counts, wt=weights)
        interval = (float(result.kappa_low), float(result.kappa_upp))
        found.append((float(result.kappa), interval))
    return found[0], found[1]


def bland_altman(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Return the mean difference (reader 1 − reader 2) and the 95 % limits of agreement.

    Limits: mean ± 1.96 sample standard deviations (ddof 1); NaN with fewer than two.
    """
    import numpy as np

    differences = np.asarray([one - two for one, two in pairs], dtype=float)
    if differences.size == 0:
        return (float("nan"),) * 3
    mean = float(differences.mean())
    sd = float(differences.std(ddof=1)) if differences.size > 1 else float("nan")
    return mean, mean - 1.96 * sd, mean + 1.96 * sd


def _pair_rows(scope: str, who: str, counts: PairCounts) -> list[Row]:
    value, interval = rate(counts.discordant, counts.subjects)
    rows = [_row(scope, who, "adjudication_rate", value, interval, n=counts.subjects)]
    pairs = sum(map(sum, counts.kappa_table))
    found = kappas(counts.kappa_table)
    for position, metric in enumerate(("kappa_unweighted", "kappa_linear")):
        kappa, kappa_ci = found[position] if found else (None, None)
        rows.append(_row(scope, who, metric, kappa, kappa_ci, n=pairs))
    value, interval = rate(counts.bor_agree, counts.subjects)
    rows.append(_row(scope, who, "bor_agreement", value, interval, n=counts.subjects))
    for prefix, values, unit in (
        ("baseline_sum", counts.baseline_sums_mm, "_mm"),
        ("change_pct", counts.changes_pct, ""),
    ):
        mean, low, high = bland_altman(values)
        n = len(values)
        rows += [
            _row(scope, who, f"{prefix}_mean_difference{unit}", mean, n=n),
            _row(scope, who, f"{prefix}_loa_low{unit}", low, n=n),
            _row(scope, who, f"{prefix}_loa_high{unit}", high, n=n),
        ]
    return rows


def _reader_rows(reader: str, counts: ReaderCounts) -> list[Row]:
    agreement, agreement_ci = rate(counts.chosen, counts.adjudicated)
    index, index_ci = rate(counts.other_chosen_subjects, counts.subjects)
    return [
        _row(
            "reader",
            reader,
            "adjudicator_agreement_rate",
            agreement,
            agreement_ci,
            n=counts.adjudicated,
        ),
        _row(
            "reader",
            reader,
            "reader_disagreement_index",
            index,
            index_ci,
            n=counts.subjects,
        ),
    ]


def pchart_rows(subjects: Sequence[SubjectDoubleRead]) -> list[Row]:
    """Return adjudication_pchart.csv's rows, one per calendar month of sign-off."""
    return [_pchart_row(month) for month in p_chart(monthly_rates(subjects))]


def _pchart_row(month: ControlLimits) -> Row:
    return {
        "month": month.month,
        "n": str(month.subjects),
        "discordant": str(month.discordant),
        "rate": _number(month.rate),
        "centre": _number(month.centre),
        "lower_limit": _number(month.lower),
        "upper_limit": _number(month.upper),
        "out_of_control": "yes" if month.is_out_of_control else "no",
    }


def write_figures(folder: Path, subjects: Sequence[SubjectDoubleRead]) -> list[Path]:
    """Write the Bland–Altman plots and the p-chart as PNG into ``folder``.

    Matplotlib without pyplot (no GUI backend, no global state), as the endpoint
    figures are drawn.
    """
    folder.mkdir(parents=True, exist_ok=True)
    counts = pair_counts(subjects)
    drawn = [
        ("bland_altman_baseline_sum.png", counts.baseline_sums_mm, "baseline sum (mm)"),
        ("bland_altman_change_pct.png", counts.changes_pct, "change from baseline (%)"),
    ]
    paths = []
    for name, pairs, what in drawn:
        paths.append(folder / name)
        _bland_altman_figure(pairs, what).savefig(paths[-1], dpi=100)
    paths.append(folder / "adjudication_pchart.png")
    _p_chart_figure(p_chart(monthly_rates(subjects))).savefig(paths[-1], dpi=100)
    return paths


def _new_figure() -> "Figure":
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(figure)
    return figure


def _bland_altman_figure(pairs: Sequence[tuple[float, float]], what: str) -> "Figure":
    figure = _new_figure()
    axes = figure.add_subplot()
    means = [(one + two) / 2 for one, two in pairs]
    differences = [one - two for one, two in pairs]
    axes.scatter(means, differences, s=12, color="tab:blue")
    mean, low, high = bland_altman(pairs)
    for value, style in ((mean, "-"), (low, "--"), (high, "--")):
        if value == value:  # NaN with fewer than two pairs: no line
            axes.axhline(value, linestyle=style, color="tab:red", linewidth=1)
    axes.set_xlabel(f"mean of the two readers' {what}")
    axes.set_ylabel(f"reader 1 - reader 2, {what}")
    axes.set_title(f"Bland-Altman: {what} (n = {len(pairs)})")
    return figure


def _p_chart_figure(months: Sequence[ControlLimits]) -> "Figure":
    figure = _new_figure()
    axes = figure.add_subplot()
    names = [m.month for m in months]
    axes.plot(names, [m.rate for m in months], marker="o", color="tab:blue")
    axes.step(names, [m.upper for m in months], where="mid", color="tab:red")
    axes.step(names, [m.lower for m in months], where="mid", color="tab:red")
    if months:
        axes.axhline(months[0].centre, color="grey", linewidth=1)
    flagged = [m for m in months if m.is_out_of_control]
    axes.scatter(
        [m.month for m in flagged],
        [m.rate for m in flagged],
        color="red",
        s=60,
        zorder=3,
    )
    axes.set_ylim(0, 1)
    axes.set_xlabel("month of sign-off")
    axes.set_ylabel("adjudication rate")
    axes.set_title("Adjudication rate per month (p-chart, 3-sigma limits)")
    return figure
