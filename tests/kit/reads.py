"""The tests' one Read builder: reads from compact tables (one list entry per timepoint).

Target cells: a number of millimetres (``measured``), ``"absent"``, ``"too_small"``,
``"ne"`` (not evaluable) or ``None`` (not recorded). Non-target and new-lesion cells are
status tokens or ``None`` (not recorded at that timepoint).

Everything else a test may need is a keyword option of :func:`build_read`: the read's key
and site, lesion locations and per-lesion methods, sign-off of the first timepoints, and
per-observation :class:`Detail` (caliper, UIDs, method, comment). Named scenarios used by
several test folders are built with it (``tests/*/reads.py``, ``tests/storage/samples.py``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from mrecist_reader.core.model import (
    Caliper,
    Criteria,
    Lesion,
    LesionType,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.units import from_mm
from mrecist_reader.resources import load_profile

TargetCell = float | str | None
Cell = tuple[str, int]
"""A lesion ID and a timepoint index: one observation."""

STUDY = "NCT06779461"
SIGNED_AT = datetime(2026, 1, 8, 9, 15, tzinfo=UTC)


@dataclass(frozen=True)
class Detail:
    """What an observation carries besides its status and diameter."""

    caliper: Caliper | None = None
    series_uid: str = ""
    sop_uid: str = ""
    method: Method | None = None
    comment: str = ""


NCT = load_profile("nct06779461")
GENERIC = load_profile("mrecist")
RECIST_LIKE = replace(
    GENERIC,
    name="recist_like",
    criteria=Criteria.RECIST_1_1,
    lymph_node_targets_allowed=True,
    node_min_short_axis=150,
    confirmation_required=True,
    confirmation_interval_days=28,
)


def target_observation(
    lesion_id: str, index: int, cell: TargetCell, profile: ProtocolProfile
) -> Observation | None:
    """Return the observation a target cell stands for."""
    if cell is None:
        return None
    if cell == "absent":
        return Observation(lesion_id, index, TargetStatus.ABSENT, 0)
    if cell == "too_small":
        return Observation(
            lesion_id, index, TargetStatus.TOO_SMALL, profile.too_small_value
        )
    if cell == "ne":
        return Observation(lesion_id, index, TargetStatus.NOT_EVALUABLE, None)
    assert isinstance(cell, float | int)
    return Observation(lesion_id, index, TargetStatus.MEASURED, from_mm(cell))


def build_read(  # the tests' one flexible builder
    targets: Mapping[str, Sequence[TargetCell]],
    *,
    non_targets: Mapping[str, Sequence[str | None]] | None = None,
    new: Mapping[str, Sequence[str | None]] | None = None,
    days: Sequence[int | None] | None = None,
    organs: Mapping[str, Organ] | None = None,
    profile: ProtocolProfile = NCT,
    scan_dates: Sequence[date | None] | None = None,
    subject_id: str = "S01",
    reader_id: str = "R1",
    read_type: ReadType = ReadType.CENTRAL,
    site_id: str = "SITE01",
    locations: Mapping[str, str] | None = None,
    methods: Mapping[str, Method] | None = None,
    details: Mapping[Cell, Detail] | None = None,
    signed: int = 0,
    signed_at: datetime = SIGNED_AT,
    lesion_order: Sequence[str] | None = None,
) -> Read:
    """Return a read with one timepoint per list entry (baseline first).

    ``locations`` and ``methods`` are per lesion (a method applies to its measured
    observations); ``details`` override one observation's extras; the first ``signed``
    timepoints are signed at ``signed_at``. Lesions come targets, non-targets, new
    lesions, each in table order, unless ``lesion_order`` lists their IDs; observations
    come by timepoint, then in that first order (as a stored read gives them back).
    """
    non_targets = non_targets or {}
    new = new or {}
    organs = organs or {}
    locations = locations or {}
    count = len(next(iter([*targets.values(), *non_targets.values(), *new.values()])))
    days = days if days is not None else [30 * i for i in range(count)]
    dates = scan_dates if scan_dates is not None else [None] * count
    timepoints = tuple(
        Timepoint(
            i,
            "BASELINE" if i == 0 else f"FU{i}",
            dates[i],
            days[i],
            ReadStatus.SIGNED if i < signed else ReadStatus.DRAFT,
            signed_at if i < signed else None,
        )
        for i in range(count)
    )
    lesions: list[Lesion] = []
    observations: list[Observation] = []
    for lesion_id, cells in targets.items():
        lesions.append(_lesion(lesion_id, LesionType.TARGET, organs, locations))
        for i, cell in enumerate(cells):
            obs = target_observation(lesion_id, i, cell, profile)
            if obs is not None:
                observations.append(obs)
    for lesion_type, table, enum in (
        (LesionType.NON_TARGET, non_targets, NonTargetStatus),
        (LesionType.NEW, new, NewLesionStatus),
    ):
        for lesion_id, tokens in table.items():
            lesions.append(_lesion(lesion_id, lesion_type, organs, locations))
            observations.extend(
                Observation(lesion_id, i, enum(token))
                for i, token in enumerate(tokens)
                if token is not None
            )
    position = {lesion.lesion_id: k for k, lesion in enumerate(lesions)}
    observations.sort(key=lambda o: (o.timepoint_index, position[o.lesion_id]))
    if lesion_order is not None:
        lesions.sort(key=lambda lesion: list(lesion_order).index(lesion.lesion_id))
    return Read(
        key=ReadKey(STUDY, subject_id, reader_id, read_type),
        site_id=site_id,
        criteria=profile.criteria,
        protocol_profile=profile.name,
        timepoints=timepoints,
        lesions=tuple(lesions),
        observations=tuple(
            _with_detail(obs, methods or {}, details or {}) for obs in observations
        ),
    )


def _lesion(
    lesion_id: str,
    lesion_type: LesionType,
    organs: Mapping[str, Organ],
    locations: Mapping[str, str],
) -> Lesion:
    organ = organs.get(lesion_id, Organ.LIVER)
    return Lesion(lesion_id, lesion_type, organ, locations.get(lesion_id, ""))


def _with_detail(
    obs: Observation, methods: Mapping[str, Method], details: Mapping[Cell, Detail]
) -> Observation:
    """Return ``obs`` with its lesion's method (when measured) and its own detail."""
    measured = obs.status is TargetStatus.MEASURED
    default = Detail(method=methods.get(obs.lesion_id) if measured else None)
    detail = details.get((obs.lesion_id, obs.timepoint_index), default)
    return replace(
        obs,
        caliper=detail.caliper,
        series_instance_uid=detail.series_uid,
        sop_instance_uid=detail.sop_uid,
        method=detail.method if detail.method is not None else default.method,
        comment=detail.comment,
    )


def baseline_dates(count: int, step_days: int = 30) -> list[date | None]:
    """Return scan dates ``step_days`` apart from 2026-01-05."""
    return [date(2026, 1, 5) + timedelta(days=step_days * i) for i in range(count)]
