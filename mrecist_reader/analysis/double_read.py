"""A synthetic double read: two primary readers per subject with realistic disagreement.

issue 17 item 8: deterministic (a fixed seed gives identical reads), 228 subjects by
default in two arms, a scan every 30 days (± a few days), up to 6 timepoints, three
reader pairs and their adjudicators. Each subject has a true course of one or two
liver targets (shrinking after TACE, sometimes growing again, sometimes a new lesion);
each reader measures it with their own error (a few per cent, now and then a caliper
on another slice), and a reader sometimes misses or over-calls a new lesion, so the
readers disagree as two radiologists do (published: best response in about a quarter
of subjects). Reads only: no images, no real patient data.

Used by the tests and by ``benchmarks/metrics.py``.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mrecist_reader.core.adjudication import Assignment
from mrecist_reader.core.model import (
    Caliper,
    Criteria,
    Lesion,
    LesionType,
    NewLesionStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.units import from_mm

STUDY_ID = "NCT06779461"
PROFILE = "nct06779461"
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("R01", "R02", "A01"),
    ("R03", "R04", "A01"),
    ("R05", "R06", "A02"),
)
"""Reader 1, reader 2 and adjudicator of each reader pair (subjects dealt in turn)."""
FIRST_SIGN_OFF = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
"""When the first baseline was signed; enrolment spreads subjects over a year."""


@dataclass(frozen=True, slots=True)
class DoubleReadTrial:
    """The assignments and both primary reads of every subject."""

    assignments: tuple[Assignment, ...]
    reads: tuple[Read, ...]


def double_read_trial(
    subjects: int = 228, *, seed: int = 17, timepoints: int = 6
) -> DoubleReadTrial:
    """Return a deterministic double read of ``subjects`` subjects.

    Parameters
    ----------
    subjects
        How many subjects (dealt to the reader pairs in turn).
    seed
        The random seed: equal seeds give equal reads.
    timepoints
        At most this many timepoints per subject (baseline included); a subject may
        drop out earlier or still be read (its last timepoints drafts).

    """
    rng = random.Random(seed)
    assignments: list[Assignment] = []
    reads: list[Read] = []
    for number in range(1, subjects + 1):
        subject_id = f"S{number:03d}"
        reader_1, reader_2, adjudicator = PAIRS[(number - 1) % len(PAIRS)]
        assignments.append(Assignment(subject_id, reader_1, reader_2, adjudicator))
        course = _true_course(rng, timepoints)
        enrolled = FIRST_SIGN_OFF + timedelta(days=rng.randrange(0, 330))
        site = f"SITE{rng.randrange(1, 9):02d}"
        signed = _signed_count(rng, len(course.sizes))
        for reader in (reader_1, reader_2):
            reads.append(_read(rng, subject_id, reader, site, course, enrolled, signed))
    return DoubleReadTrial(tuple(assignments), tuple(reads))


@dataclass(frozen=True, slots=True)
class _Course:
    """A subject's true target sizes per timepoint (mm) and the first new lesion."""

    sizes: tuple[tuple[float, ...], ...]
    new_lesion_at: int | None
    days: tuple[int, ...]


def _true_course(rng: random.Random, timepoints: int) -> _Course:
    count = rng.randint(2, timepoints)
    targets = rng.choice((1, 1, 2))
    baseline = [rng.uniform(34.0, 85.0) for _ in range(targets)]
    factor, sizes = 1.0, [tuple(baseline)]
    nadir_reached = rng.randint(1, max(1, count - 1))
    for index in range(1, count):
        if index <= nadir_reached:
            factor *= rng.uniform(0.45, 1.05)  # TACE shrinks the viable part
        else:
            factor *= rng.uniform(0.95, 1.45)  # regrowth after the nadir
        sizes.append(tuple(0.0 if factor * b < 4.0 else factor * b for b in baseline))
    new_at = rng.randrange(1, count) if count > 1 and rng.random() < 0.2 else None
    days = tuple(0 if i == 0 else 30 * i + rng.randint(-4, 4) for i in range(count))
    return _Course(tuple(sizes), new_at, days)


def _signed_count(rng: random.Random, count: int) -> int:
    """Return how many timepoints both readers have signed (most: all)."""
    return count if rng.random() < 0.85 else rng.randint(1, count)


def _measured(rng: random.Random, size: float, *, baseline: bool) -> float:
    """Return a reader's measurement of a true size (mm, 0 absent).

    A baseline target stays within the profile's 30–100 mm; a follow-up measurement
    is at least 10 mm (smaller: the true size).
    """
    if size == 0.0:
        return 0.0
    error = rng.gauss(0.0, 0.06)
    if rng.random() < 0.05:  # a caliper on another slice, or another margin
        error += rng.choice((-0.25, 0.25))
    measured = size * (1.0 + error)
    if baseline:
        return min(99.0, max(31.0, measured))
    return max(10.0, measured) if size >= 10.0 else size


def _read(
    rng: random.Random,
    subject_id: str,
    reader_id: str,
    site: str,
    course: _Course,
    enrolled: datetime,
    signed: int,
) -> Read:
    targets = len(course.sizes[0])
    lesions = [
        Lesion(f"T{n + 1}", LesionType.TARGET, Organ.LIVER, f"segment {n + 5}")
        for n in range(targets)
    ]
    observations: list[Observation] = []
    for index, sizes in enumerate(course.sizes):
        for n, size in enumerate(sizes):
            observations.append(_target(rng, f"T{n + 1}", index, size))
    new_at = course.new_lesion_at
    if new_at is not None and rng.random() < 0.15:  # seen one scan later, or missed
        new_at = new_at + 1 if new_at + 1 < len(course.sizes) else None
    elif new_at is None and rng.random() < 0.03:  # an over-called new lesion
        new_at = len(course.sizes) - 1 if len(course.sizes) > 1 else None
    if new_at is not None:
        lesions.append(Lesion("N1", LesionType.NEW, Organ.LIVER, "segment 2"))
        observations += [
            Observation("N1", index, NewLesionStatus.PRESENT)
            for index in range(new_at, len(course.sizes))
        ]
    timepoints = tuple(
        Timepoint(
            index,
            "BASELINE" if index == 0 else f"FU{index}",
            None,
            day,
            ReadStatus.SIGNED if index < signed else ReadStatus.DRAFT,
            enrolled + timedelta(days=day + rng.randint(1, 9))
            if index < signed
            else None,
        )
        for index, day in enumerate(course.days)
    )
    return Read(
        key=ReadKey(STUDY_ID, subject_id, reader_id, ReadType.CENTRAL),
        site_id=site,
        criteria=Criteria.MRECIST,
        protocol_profile=PROFILE,
        timepoints=timepoints,
        lesions=tuple(lesions),
        observations=tuple(observations),
    )


def _target(rng: random.Random, lesion_id: str, index: int, size: float) -> Observation:
    measured = _measured(rng, size, baseline=index == 0)
    if measured == 0.0:
        return Observation(lesion_id, index, TargetStatus.ABSENT, from_mm(0))
    half = measured / 2
    caliper = Caliper((-half, 20.0, -100.0 - index), (half, 20.0, -100.0 - index))
    return Observation(
        lesion_id,
        index,
        TargetStatus.MEASURED,
        caliper.length(),
        caliper,
        "1.2.826.0.1.3680043.10.1",
        f"1.2.826.0.1.3680043.10.1.{index}",
    )
