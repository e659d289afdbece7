"""Reader metrics of a double read: the counts and pairs they are computed from.

central-review.md §Reader metrics. This module gathers, per reader pair, what the
statistics need (pure and exact): adjudication counts, the 4 × 4 table of timepoint
overall responses (CR < PR < SD < PD; NE on either side left out), best-response
agreement, baseline sums and percentage changes of both reads, and the cuts per
calendar month of sign-off. The statistics themselves (Cohen's kappa with its
asymptotic interval, Clopper–Pearson intervals) are left to a statistics library.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from mrecist_reader.core.adjudication import AdjudicationCase, CutStatus
from mrecist_reader.core.assess import Assessment, assess
from mrecist_reader.core.model import Read, Response
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.read_edits import truncated

KAPPA_CATEGORIES: tuple[Response, ...] = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.PD,
)
"""The fixed, ordered categories of the kappa table (NE left out)."""


@dataclass(frozen=True, slots=True)
class SubjectDoubleRead:
    """One subject's two primary reads up to its latest cut, and its cuts."""

    subject_id: str
    reader_1: str
    reader_2: str
    assessment_1: Assessment
    assessment_2: Assessment
    cases: tuple[AdjudicationCase, ...]

    @property
    def pair(self) -> str:
        """Return the reader pair as ``reportable`` text (``R01+R02``)."""
        return f"{self.reader_1}+{self.reader_2}"

    @property
    def was_discordant(self) -> bool:
        """Return whether any cut of the subject was discordant (awaiting or decided)."""
        return any(case.status is not CutStatus.CONCORDANT for case in self.cases)

    def decisions(self) -> tuple[AdjudicationCase, ...]:
        """Return the adjudicated cuts."""
        return tuple(c for c in self.cases if c.status is CutStatus.ADJUDICATED)

    def sign_off_month(self) -> str | None:
        """Return the calendar month (``YYYY-MM``) the latest cut was signed off."""
        latest = self.cases[-1].signed_off_at if self.cases else None
        return None if latest is None else f"{latest.year:04d}-{latest.month:02d}"


@dataclass(slots=True)
class PairCounts:
    """What the statistics of one reader pair (or all pairs pooled) are computed from.

    ``kappa_table[i][j]`` counts timepoints reader 1 called ``KAPPA_CATEGORIES[i]``
    and reader 2 ``KAPPA_CATEGORIES[j]``. ``baseline_sums_mm`` and ``changes_pct``
    hold (reader 1, reader 2) pairs.
    """

    subjects: int = 0
    discordant: int = 0
    kappa_table: list[list[int]] = field(
        default_factory=lambda: [[0] * len(KAPPA_CATEGORIES) for _ in KAPPA_CATEGORIES]
    )
    bor_agree: int = 0
    baseline_sums_mm: list[tuple[float, float]] = field(default_factory=list)
    changes_pct: list[tuple[float, float]] = field(default_factory=list)


@dataclass(slots=True)
class ReaderCounts:
    """One reader's adjudication counts (adjudicator agreement, RDI)."""

    subjects: int = 0
    adjudicated: int = 0
    chosen: int = 0
    other_chosen_subjects: int = 0


def double_read(
    read_1: Read,
    read_2: Read,
    cases: Sequence[AdjudicationCase],
    profile_of: Callable[[str], ProtocolProfile],
) -> SubjectDoubleRead | None:
    """Return a subject's two reads assessed up to its latest cut (``None``: no cut)."""
    if not cases:
        return None
    cut = cases[-1].cut_index
    one, two = truncated(read_1, cut), truncated(read_2, cut)
    return SubjectDoubleRead(
        subject_id=cases[-1].subject_id,
        reader_1=cases[-1].reader_1,
        reader_2=cases[-1].reader_2,
        assessment_1=assess(one, profile_of(one.protocol_profile)),
        assessment_2=assess(two, profile_of(two.protocol_profile)),
        cases=tuple(cases),
    )


def pair_counts(subjects: Iterable[SubjectDoubleRead]) -> PairCounts:
    """Count one pair's (or the pooled) adjudications, responses and sums."""
    counts = PairCounts()
    for subject in subjects:
        counts.subjects += 1
        counts.discordant += subject.was_discordant
        a_1, a_2 = subject.assessment_1, subject.assessment_2
        counts.bor_agree += a_1.best_overall_response == a_2.best_overall_response
        _count_timepoints(counts, a_1, a_2)
    return counts


def _count_timepoints(counts: PairCounts, a_1: Assessment, a_2: Assessment) -> None:
    second = {row.timepoint_index: row for row in a_2.timepoints}
    for row in a_1.timepoints:
        other = second.get(row.timepoint_index)
        if other is None:
            continue
        if row.timepoint_index == 0:
            if row.target_sum is not None and other.target_sum is not None:
                counts.baseline_sums_mm.append(
                    (row.target_sum / 10, other.target_sum / 10)
                )
            continue
        one, two = row.overall_response, other.overall_response
        if one in KAPPA_CATEGORIES and two in KAPPA_CATEGORIES:
            i, j = KAPPA_CATEGORIES.index(one), KAPPA_CATEGORIES.index(two)
            counts.kappa_table[i][j] += 1
        pct_1, pct_2 = row.change_from_baseline_pct, other.change_from_baseline_pct
        if pct_1 is not None and pct_2 is not None:
            counts.changes_pct.append((_float(pct_1), _float(pct_2)))


def _float(value: Fraction) -> float:
    return float(value)


def reader_counts(subjects: Iterable[SubjectDoubleRead]) -> dict[str, ReaderCounts]:
    """Count, per reader, subjects read, adjudicated cuts and the adjudicator's choices.

    Adjudicator agreement rate: chosen / adjudicated; Reader Disagreement Index:
    subjects where the adjudicator chose the other reader / all subjects the reader
    read (central-review.md §Reader metrics).
    """
    found: dict[str, ReaderCounts] = {}
    for subject in subjects:
        for reader in (subject.reader_1, subject.reader_2):
            counts = found.setdefault(reader, ReaderCounts())
            counts.subjects += 1
            decisions = subject.decisions()
            counts.adjudicated += len(decisions)
            counts.chosen += sum(d.chosen_reader == reader for d in decisions)
            counts.other_chosen_subjects += any(
                d.chosen_reader != reader for d in decisions
            )
    return dict(sorted(found.items()))


@dataclass(frozen=True, slots=True)
class MonthRate:
    """One calendar month of the p-chart: subjects signed off and discordant."""

    month: str
    subjects: int
    discordant: int


def monthly_rates(subjects: Iterable[SubjectDoubleRead]) -> tuple[MonthRate, ...]:
    """Return the adjudication counts per calendar month of sign-off, by month."""
    months: dict[str, list[int]] = {}
    for subject in subjects:
        month = subject.sign_off_month()
        if month is None:
            continue
        counts = months.setdefault(month, [0, 0])
        counts[0] += 1
        counts[1] += subject.was_discordant
    return tuple(MonthRate(m, n, d) for m, (n, d) in sorted(months.items()))


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """A p-chart month with its centre line and 3-sigma limits (fractions 0-1)."""

    month: str
    subjects: int
    discordant: int
    rate: float
    centre: float
    lower: float
    upper: float

    @property
    def is_out_of_control(self) -> bool:
        """Return whether the month's rate lies outside the limits."""
        return not self.lower <= self.rate <= self.upper


def p_chart(months: Sequence[MonthRate]) -> tuple[ControlLimits, ...]:
    """Return each month's rate with the p-chart's centre line and 3-sigma limits.

    Centre p̄ = all discordant / all subjects; limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ), clipped
    to [0, 1] (the standard p-chart with varying sample sizes).
    """
    total = sum(m.subjects for m in months)
    if total == 0:
        return ()
    centre = sum(m.discordant for m in months) / total
    limits = []
    for month in months:
        sigma = (centre * (1 - centre) / month.subjects) ** 0.5
        limits.append(
            ControlLimits(
                month.month,
                month.subjects,
                month.discordant,
                month.discordant / month.subjects,
                centre,
                max(0.0, centre - 3 * sigma),
                min(1.0, centre + 3 * sigma),
            )
        )
    return tuple(limits)
