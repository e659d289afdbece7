"""endpoints.md §Populations and statistics: known values and worked examples.

The spec's known values, and published worked examples (R and SAS outputs).
"""

import pytest

from mrecist_reader.analysis.statistics import (
    TwoByTwo,
    clopper_pearson,
    cmh_p,
    fisher_exact_p,
    miettinen_nurminen,
)


def rounded(pair: tuple[float, float]) -> tuple[str, str]:
    return f"{pair[0]:.4f}", f"{pair[1]:.4f}"


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (7, 20, ("0.1539", "0.5922")),
        (0, 15, ("0.0000", "0.2180")),
        (15, 15, ("0.7820", "1.0000")),
        (68, 114, ("0.5005", "0.6873")),
    ],
)
def test_clopper_pearson_gives_the_specs_known_values(
    k: int, n: int, expected: tuple[str, str]
) -> None:
    assert rounded(clopper_pearson(k, n)) == expected


def test_clopper_pearson_refuses_an_empty_group() -> None:
    with pytest.raises(ValueError, match="0/0 is not a rate"):
        clopper_pearson(0, 0)


def test_miettinen_nurminen_gives_the_specs_known_value() -> None:
    # PropCIs diffscoreci(7, 34, 1, 34, 0.95); SAS RISKDIFF(CL=MN)
    assert rounded(miettinen_nurminen(TwoByTwo(7, 34, 1, 34))) == ("0.0270", "0.3453")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # Newcombe (1998), Stat Med 17:873, Table II, method 10 (Miettinen-Nurminen)
        (TwoByTwo(56, 70, 48, 80), ("0.0528", "0.3382")),
        (TwoByTwo(9, 10, 3, 10), ("0.1700", "0.8406")),
        (TwoByTwo(6, 7, 2, 7), ("0.0342", "0.8534")),
        (TwoByTwo(5, 56, 0, 29), ("-0.0326", "0.1933")),
    ],
)
def test_miettinen_nurminen_gives_newcombes_worked_examples(
    table: TwoByTwo, expected: tuple[str, str]
) -> None:
    assert rounded(miettinen_nurminen(table)) == expected


def test_the_mn_interval_is_not_statsmodels_score_interval() -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    ours = miettinen_nurminen(TwoByTwo(7, 34, 1, 34))
    theirs = confint_proportions_2indep(7, 34, 1, 34, method="score", compare="diff")
    assert rounded(ours) != rounded((float(theirs[0]), float(theirs[1])))


def test_the_mn_interval_reaches_the_bound_when_rates_are_extreme() -> None:
    assert miettinen_nurminen(TwoByTwo(10, 10, 0, 20))[1] == 1.0


def test_fisher_gives_the_specs_known_value() -> None:
    assert f"{fisher_exact_p(TwoByTwo(68, 114, 52, 114)):.4f}" == "0.0464"


def test_fisher_gives_the_tea_tasting_example() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2)) p-value = 0.4857
    assert f"{fisher_exact_p(TwoByTwo(3, 4, 1, 4)):.4f}" == "0.4857"


UCB_ADMISSIONS = [
    # (men admitted, men, women admitted, women) per department A-F
    TwoByTwo(512, 825, 89, 108),
    TwoByTwo(353, 560, 17, 25),
    TwoByTwo(120, 325, 202, 593),
    TwoByTwo(138, 417, 131, 375),
    TwoByTwo(53, 191, 94, 393),
    TwoByTwo(22, 373, 24, 341),
]


def test_cmh_without_continuity_correction_gives_the_published_value() -> None:
    # R: mantelhaen.test(UCBAdmissions, correct = FALSE): X-squared = 1.5246,
    # p-value = 0.2169; SAS PROC FREQ CMH on the same table.
    assert f"{cmh_p(UCB_ADMISSIONS):.4f}" == "0.2169"


def test_a_stratum_with_one_group_only_adds_nothing_to_cmh() -> None:
    alone = [*UCB_ADMISSIONS, TwoByTwo(3, 5, 0, 0)]
    assert cmh_p(alone) == pytest.approx(cmh_p(UCB_ADMISSIONS))


def test_cmh_without_an_informative_stratum_is_none() -> None:
    assert cmh_p([TwoByTwo(0, 5, 0, 5)]) is None
