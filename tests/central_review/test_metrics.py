"""central-review.md §Reader metrics: ``mrecist-reader metrics`` and reader_metrics.csv."""

import csv
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from mrecist_reader.cli import main
from mrecist_reader.cli.metrics import bland_altman, kappas, rate
from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.core.reader_metrics import MonthRate, p_chart
from mrecist_reader.session import record_decision, trigger_adjudication
from mrecist_reader.storage.audit import Actor, AuditEntry
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.reads import MANAGER, primary_read

CR, PR, SD, PD = range(4)


def table(*cells: tuple[int, int, int]) -> list[list[int]]:
    counts = [[0] * 4 for _ in range(4)]
    for i, j, n in cells:
        counts[i][j] = n
    return counts


def test_kappa_matches_the_published_worked_example():
    # Wikipedia "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: 0.4
    (kappa, _ci), (weighted, _wci) = kappas(
        table((CR, CR, 20), (CR, PR, 5), (PR, CR, 10), (PR, PR, 15))
    )
    assert kappa == pytest.approx(0.4)
    # with two adjacent categories every disagreement weighs the same: still 0.4
    assert weighted == pytest.approx(0.4)


def test_linear_kappa_weighs_disagreements_by_distance_over_cr_pr_sd_pd():
    counts = table(
        (CR, CR, 5), (PR, PR, 6), (SD, SD, 7), (PD, PD, 4), (CR, PD, 2), (PR, SD, 3)
    )
    n = sum(map(sum, counts))
    rows = [sum(r) for r in counts]
    cols = [sum(c) for c in zip(*counts, strict=True)]
    weight = lambda i, j: Fraction(abs(i - j), 3)  # noqa: E731
    observed = sum(weight(i, j) * counts[i][j] for i in range(4) for j in range(4))
    expected = sum(
        weight(i, j) * Fraction(rows[i] * cols[j], n)
        for i in range(4)
        for j in range(4)
    )
    (_k, _ci), (weighted, (low, high)) = kappas(counts)
    assert weighted == pytest.approx(float(1 - observed / expected))
    assert low < weighted < high


def test_kappa_of_an_empty_table_is_not_given():
    assert kappas(table()) is None


def test_rates_have_clopper_pearson_intervals():
    # endpoints.md's known values: 7/20 -> 0.1539-0.5922, 0/15 -> 0-0.2180
    value, (low, high) = rate(7, 20)
    assert (value, round(low, 4), round(high, 4)) == (0.35, 0.1539, 0.5922)
    assert [round(x, 4) for x in rate(0, 15)[1]] == [0.0, 0.2180]


def test_bland_altman_limits_are_the_mean_plus_minus_196_sample_sds():
    mean, low, high = bland_altman([(11, 10), (12, 10), (13, 10), (14, 10)])
    assert mean == 2.5
    sd = (5 / 3) ** 0.5  # sample SD of 1, 2, 3, 4
    assert (low, high) == (
        pytest.approx(2.5 - 1.96 * sd),
        pytest.approx(2.5 + 1.96 * sd),
    )


def test_the_p_chart_flags_months_outside_three_sigma():
    months = [
        MonthRate("2026-01", 100, 20),
        MonthRate("2026-02", 100, 22),
        MonthRate("2026-03", 100, 48),
    ]
    jan, feb, mar = p_chart(months)
    assert jan.centre == pytest.approx(0.3)
    sigma = (0.3 * 0.7 / 100) ** 0.5
    assert (jan.lower, jan.upper) == (
        pytest.approx(0.3 - 3 * sigma),
        pytest.approx(0.3 + 3 * sigma),
    )
    assert [m.is_out_of_control for m in (jan, feb, mar)] == [False, False, True]


# ------------------------------------------------------------------ the command
def store(repository, subject, sizes_1, sizes_2, signed_at, reader_2="R02"):
    for reader, sizes in (("R01", sizes_1), (reader_2, sizes_2)):
        read = primary_read(subject, reader, sizes, signed_at=signed_at)
        repository.save(read, [AuditEntry("save", "read")], actor=Actor(reader, "u"))


@pytest.fixture
def trial(tmp_path) -> str:
    db = f"sqlite:///{tmp_path}/reads.db"
    january, february = (datetime(2026, m, 10, tzinfo=UTC) for m in (1, 2))
    with ReadRepository(db) as repository:
        repository.assign(
            [Assignment(s, "R01", "R02", "A01") for s in ("S01", "S02", "S03")]
            + [Assignment("S04", "R01", "R03", "A01")],
            actor=MANAGER,
            source="assignments.csv",
        )
        store(repository, "S01", [50, 30], [50, 30], january)  # concordant PR
        store(repository, "S02", [50, 30], [50, 45], january)  # PR vs SD
        store(repository, "S03", [50, 70], [48, 45], february)  # PD vs SD
        store(repository, "S04", [50, 45], [50, 44], february, reader_2="R03")
        trigger_adjudication(repository, MANAGER)
        for subject, choose in (("S02", "reader_2"), ("S03", "reader_1")):
            record_decision(
                repository, subject, adjudicator="A01", choose=choose,
                reason="measurement", rationale="as measured on the portal phase",
            )  # fmt: skip
    return db


def metrics(tmp_path, db, *extra: str) -> dict[tuple[str, str, str], dict[str, str]]:
    out = tmp_path / "metrics"
    assert main(["metrics", "--db", db, *extra, "-o", str(out)]) == 0
    with (out / "reader_metrics.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == [
        "scope",
        "who",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
    ]
    return {(r["scope"], r["who"], r["metric"]): r for r in rows}


def test_the_adjudication_rate_is_discordant_subjects_over_subjects_with_both_reads(
    trial, tmp_path
):
    rows = metrics(tmp_path, trial)
    overall = rows[("overall", "", "adjudication_rate")]
    assert (overall["value"], overall["n"]) == ("0.5000", "4")
    low, high = rate(2, 4)[1]
    assert (overall["ci_low"], overall["ci_high"]) == (f"{low:.4f}", f"{high:.4f}")
    pair = rows[("pair", "R01+R02", "adjudication_rate")]
    assert (pair["value"], pair["n"]) == ("0.6667", "3")
    assert rows[("pair", "R01+R03", "adjudication_rate")]["value"] == "0.0000"


def test_adjudicator_agreement_is_chosen_over_adjudicated_per_reader(trial, tmp_path):
    rows = metrics(tmp_path, trial)
    r01 = rows[("reader", "R01", "adjudicator_agreement_rate")]
    r02 = rows[("reader", "R02", "adjudicator_agreement_rate")]
    assert (r01["value"], r01["n"]) == ("0.5000", "2")
    assert (r02["value"], r02["n"]) == ("0.5000", "2")
    r03 = rows[("reader", "R03", "adjudicator_agreement_rate")]
    assert (r03["value"], r03["n"]) == ("", "0")


def test_the_reader_disagreement_index_is_other_chosen_over_subjects_read(
    trial, tmp_path
):
    rows = metrics(tmp_path, trial)
    r01 = rows[("reader", "R01", "reader_disagreement_index")]
    r02 = rows[("reader", "R02", "reader_disagreement_index")]
    assert (r01["value"], r01["n"]) == ("0.2500", "4")  # S02 went to R02
    assert (r02["value"], r02["n"]) == ("0.3333", "3")  # S03 went to R01


def test_kappa_pairs_the_timepoint_responses_and_bor_agreement_counts_subjects(
    trial, tmp_path
):
    rows = metrics(tmp_path, trial)
    kappa = rows[("overall", "", "kappa_unweighted")]
    assert kappa["n"] == "4"  # one follow-up per subject
    expected = kappas(table((PR, PR, 1), (PR, SD, 1), (PD, SD, 1), (SD, SD, 1)))
    assert expected is not None
    assert kappa["value"] == f"{expected[0][0]:.4f}"
    assert rows[("overall", "", "kappa_linear")]["value"] == f"{expected[1][0]:.4f}"
    bor = rows[("overall", "", "bor_agreement")]
    assert (bor["value"], bor["n"]) == ("0.5000", "4")


def test_bland_altman_of_baseline_sums_is_reader_1_minus_reader_2(trial, tmp_path):
    rows = metrics(tmp_path, trial)
    mean = rows[("overall", "", "baseline_sum_mean_difference_mm")]
    assert (mean["value"], mean["n"]) == ("0.5000", "4")  # 0, 0, 2, 0
    low = rows[("overall", "", "baseline_sum_loa_low_mm")]["value"]
    assert low == f"{bland_altman([(0, 0), (0, 0), (2, 0), (0, 0)])[1]:.4f}"


def test_the_p_chart_is_written_per_month_of_sign_off(trial, tmp_path):
    metrics(tmp_path, trial)
    text = (tmp_path / "metrics" / "adjudication_pchart.csv").read_text(
        encoding="utf-8"
    )
    header, january, february = text.splitlines()
    assert (
        header
        == "month,n,discordant,rate,centre,lower_limit,upper_limit,out_of_control"
    )
    assert january.startswith("2026-01,2,1,0.5000,0.5000,")
    assert february.startswith("2026-02,2,1,0.5000,0.5000,")


@pytest.mark.parametrize("reader", ["R01", "R03"])
def test_metrics_are_refused_to_a_primary_reader(trial, tmp_path, capsys, reader):
    out = tmp_path / "metrics"
    assert main(["metrics", "--db", trial, "--reader", reader, "-o", str(out)]) == 1
    assert "primary reader" in capsys.readouterr().err
    assert not out.exists()


def test_metrics_run_as_the_settings_reader_id(trial, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MRECIST_READER_READER_ID", "R02")
    out = tmp_path / "m"
    assert main(["metrics", "--db", trial, "-o", str(out)]) == 1
    monkeypatch.setenv("MRECIST_READER_READER_ID", "PM01")
    assert main(["metrics", "--db", trial, "-o", str(out)]) == 0


def test_the_bland_altman_plots_and_the_p_chart_go_to_figures(trial, tmp_path):
    metrics(tmp_path, trial)
    figures = tmp_path / "metrics" / "figures"
    names = sorted(p.name for p in figures.iterdir())
    assert names == [
        "adjudication_pchart.png",
        "bland_altman_baseline_sum.png",
        "bland_altman_change_pct.png",
    ]
    for name in names:
        assert (figures / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
