"""Endpoints of every subject, populations and rates per arm (endpoints.md).

:func:`analyse` derives every subject's endpoints with the pure core
(:func:`mrecist_reader.core.endpoints.derive_endpoints`), forms the full analysis set
and the evaluable set, and computes each endpoint's rate per arm and pooled with its
Clopper–Pearson interval and, between arms, the difference with its
Miettinen–Nurminen interval, Fisher's exact p and (with strata) the CMH p.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mrecist_reader.analysis.statistics import (
    TwoByTwo,
    clopper_pearson,
    cmh_p,
    fisher_exact_p,
    miettinen_nurminen,
)
from mrecist_reader.core.endpoints import (
    ArmAssignment,
    EndpointDefinition,
    EndpointResult,
    EndpointStatus,
    SubjectCourse,
    derive_endpoints,
)

logger = logging.getLogger(__name__)

ALL_ARMS = "all"
"""The ``arm`` of pooled rows."""

FULL = "full"
EVALUABLE = "evaluable"
POPULATIONS = (FULL, EVALUABLE)

SUBJECT_COLUMNS: tuple[str, ...] = (
    "subject_id",
    "arm",
    "endpoint",
    "anchor_day",
    "target_day",
    "timepoint",
    "study_day",
    "basis_response",
    "endpoint_response",
    "responder",
    "status",
    "reason",
)
"""endpoint_subjects.csv (endpoints.md §Outputs)."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "endpoint",
    "population",
    "arm",
    "n",
    "responders",
    "rate",
    "ci_low",
    "ci_high",
    "difference",
    "diff_ci_low",
    "diff_ci_high",
    "p_fisher",
    "p_cmh",
)
"""endpoint_summary.csv (endpoints.md §Outputs)."""


class AnalysisError(ValueError):
    """The endpoints cannot be analysed as asked (e.g. an unknown control arm)."""


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """One row of endpoint_subjects.csv: a subject's result with its arm."""

    arm: str
    result: EndpointResult


@dataclass(frozen=True, slots=True)
class RateRow:
    """One rate of endpoint_summary.csv; a comparison row carries the difference."""

    endpoint: str
    population: str
    arm: str
    n: int | None = None
    responders: int | None = None
    rate: float | None = None
    ci: tuple[float, float] | None = None
    difference: float | None = None
    difference_ci: tuple[float, float] | None = None
    p_fisher: float | None = None
    p_cmh: float | None = None


@dataclass(frozen=True, slots=True)
class EndpointAnalysis:
    """Every subject's endpoints and every rate, with the warnings to show."""

    definitions: tuple[EndpointDefinition, ...]
    subjects: tuple[SubjectRow, ...]
    rates: tuple[RateRow, ...]
    arms: tuple[str, ...]
    control_arm: str | None
    full_set: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())


def analyse(
    courses: Mapping[str, SubjectCourse],
    definitions: Sequence[EndpointDefinition],
    *,
    sd_min_days: int,
    arms: Mapping[str, ArmAssignment] | None = None,
    control_arm: str | None = None,
) -> EndpointAnalysis:
    """Derive every subject's endpoints and the rates (endpoints.md §Populations).

    Parameters
    ----------
    courses
        Every subject with reads (or treatments): subject ID → course.
    definitions
        The endpoints, ``_overall`` twins included, in report order.
    sd_min_days
        The profile's SD minimum for disease control.
    arms
        arms.csv (``None``: every figure is pooled).
    control_arm
        The arm the others are compared with.

    Raises
    ------
    AnalysisError
        When ``control_arm`` is not one of the arms.

    """
    warnings: list[str] = []
    arm_names = tuple(sorted({a.arm for a in (arms or {}).values()}))
    if arms and control_arm is not None and control_arm not in arm_names:
        raise AnalysisError(
            f"control arm {control_arm!r} is not an arm of arms.csv (arms: "
            f"{', '.join(arm_names)})"
        )
    full_set, listed = _subject_sets(courses, arms, warnings)
    subjects: list[SubjectRow] = []
    for subject_id in listed:
        course = courses.get(subject_id, SubjectCourse(subject_id, ()))
        arm = arms[subject_id].arm if arms and subject_id in arms else ""
        results = derive_endpoints(course, tuple(definitions), sd_min_days=sd_min_days)
        subjects.extend(SubjectRow(arm, result) for result in results)
    in_full = set(full_set)
    rates: list[RateRow] = []
    for definition in definitions:
        rows = [
            s
            for s in subjects
            if s.result.endpoint == definition.name and s.result.subject_id in in_full
        ]
        rates.extend(_rates(definition.name, rows, arm_names, control_arm, arms))
    if len(arm_names) >= 2 and control_arm is None:
        warnings.append(
            "no control arm (profile control_arm or --control): arms not compared"
        )
    return EndpointAnalysis(
        definitions=tuple(definitions),
        subjects=tuple(subjects),
        rates=tuple(rates),
        arms=arm_names,
        control_arm=control_arm if len(arm_names) >= 2 else None,
        full_set=full_set,
        warnings=tuple(warnings),
    )


def _subject_sets(
    courses: Mapping[str, SubjectCourse],
    arms: Mapping[str, ArmAssignment] | None,
    warnings: list[str],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the full analysis set and every subject listed (§Populations)."""
    with_reads = {s for s, c in courses.items() if c.timepoints}
    if arms:
        full = sorted(arms)
        outside = sorted(with_reads - set(arms))
        if outside:
            warnings.append(
                f"{len(outside)} subject(s) with reads are not in arms.csv (listed "
                f"with an empty arm, left out of the figures): {', '.join(outside)}"
            )
        return tuple(full), tuple(sorted({*full, *outside}))
    full = sorted(s for s in with_reads if courses[s].has_signed_baseline())
    unsigned = sorted(with_reads - set(full))
    if unsigned:
        warnings.append(
            f"{len(unsigned)} subject(s) without a signed baseline are left out: "
            f"{', '.join(unsigned)}"
        )
    return tuple(full), tuple(full)


def _counts(rows: Sequence[SubjectRow], population: str) -> tuple[int, int]:
    if population == EVALUABLE:
        rows = [r for r in rows if r.result.status is EndpointStatus.ASSESSED]
    return len(rows), sum(1 for r in rows if r.result.responder)


def _rate_row(endpoint: str, population: str, arm: str, n: int, k: int) -> RateRow:
    if n == 0:
        return RateRow(endpoint, population, arm, n=0, responders=0)
    return RateRow(
        endpoint, population, arm, n=n, responders=k, rate=k / n,
        ci=clopper_pearson(k, n),
    )  # fmt: skip


def _rates(
    endpoint: str,
    rows: Sequence[SubjectRow],
    arm_names: tuple[str, ...],
    control_arm: str | None,
    arms: Mapping[str, ArmAssignment] | None,
) -> list[RateRow]:
    result: list[RateRow] = []
    for population in POPULATIONS:
        by_arm = {arm: [r for r in rows if r.arm == arm] for arm in arm_names}
        for arm, arm_rows in by_arm.items():
            result.append(
                _rate_row(endpoint, population, arm, *_counts(arm_rows, population))
            )
        result.append(
            _rate_row(endpoint, population, ALL_ARMS, *_counts(rows, population))
        )
        if control_arm is None or len(arm_names) < 2:
            continue
        for arm in arm_names:
            if arm != control_arm:
                result.append(
                    _comparison(
                        endpoint,
                        population,
                        (arm, by_arm[arm]),
                        (control_arm, by_arm[control_arm]),
                        arms or {},
                    )
                )
    return result


def _comparison(
    endpoint: str,
    population: str,
    other: tuple[str, Sequence[SubjectRow]],
    control: tuple[str, Sequence[SubjectRow]],
    arms: Mapping[str, ArmAssignment],
) -> RateRow:
    """Return the row ``B - A``: difference, MN interval, Fisher's p, CMH p."""
    n_b, k_b = _counts(other[1], population)
    n_a, k_a = _counts(control[1], population)
    name = f"{other[0]} - {control[0]}"
    if n_a == 0 or n_b == 0:
        return RateRow(endpoint, population, name)
    table = TwoByTwo(k_b, n_b, k_a, n_a)
    strata = sorted({a.stratum for a in arms.values() if a.stratum})
    p_cmh = None
    if strata:
        p_cmh = cmh_p(
            [
                _stratum_table(other[1], control[1], population, stratum, arms)
                for stratum in strata
            ]
        )
    return RateRow(
        endpoint,
        population,
        name,
        difference=k_b / n_b - k_a / n_a,
        difference_ci=miettinen_nurminen(table),
        p_fisher=fisher_exact_p(table),
        p_cmh=p_cmh,
    )


def _stratum_table(
    other: Sequence[SubjectRow],
    control: Sequence[SubjectRow],
    population: str,
    stratum: str,
    arms: Mapping[str, ArmAssignment],
) -> TwoByTwo:
    def within(rows: Sequence[SubjectRow]) -> list[SubjectRow]:
        return [r for r in rows if arms[r.result.subject_id].stratum == stratum]

    n_b, k_b = _counts(within(other), population)
    n_a, k_a = _counts(within(control), population)
    return TwoByTwo(k_b, n_b, k_a, n_a)


def _number(value: float | None) -> str:
    """Format a rate, bound, difference or p-value with 4 decimals (§Statistics)."""
    if value is None:
        return ""
    text = f"{value:.4f}"
    return "0.0000" if text == "-0.0000" else text


def _whole(value: int | None) -> str:
    return "" if value is None else str(value)


def subject_cells(row: SubjectRow) -> dict[str, str]:
    """Return one endpoint_subjects.csv row as text cells."""
    r = row.result
    responder = "" if r.responder is None else ("yes" if r.responder else "no")
    return {
        "subject_id": r.subject_id,
        "arm": row.arm,
        "endpoint": r.endpoint,
        "anchor_day": _whole(r.anchor_day),
        "target_day": _whole(r.target_day),
        "timepoint": r.timepoint or "",
        "study_day": _whole(r.study_day),
        "basis_response": str(r.basis_response or ""),
        "endpoint_response": str(r.endpoint_response or ""),
        "responder": responder,
        "status": str(r.status),
        "reason": r.reason,
    }


def rate_cells(row: RateRow) -> dict[str, str]:
    """Return one endpoint_summary.csv row as text cells (4 decimals)."""
    low, high = row.ci or (None, None)
    diff_low, diff_high = row.difference_ci or (None, None)
    return {
        "endpoint": row.endpoint,
        "population": row.population,
        "arm": row.arm,
        "n": _whole(row.n),
        "responders": _whole(row.responders),
        "rate": _number(row.rate),
        "ci_low": _number(low),
        "ci_high": _number(high),
        "difference": _number(row.difference),
        "diff_ci_low": _number(diff_low),
        "diff_ci_high": _number(diff_high),
        "p_fisher": _number(row.p_fisher),
        "p_cmh": _number(row.p_cmh),
    }
