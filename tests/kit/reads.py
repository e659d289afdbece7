"""Build reads for rules tests from compact tables (one list entry per timepoint).

Target cells: a number of millimetres (``measured``), ``"absent"``, ``"too_small"``,
``"ne"`` (not evaluable) or ``None`` (not recorded). Non-target and new-lesion cells are
status tokens or ``None`` (not recorded at that timepoint).
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

from mrecist_reader.core.model import (
    Criteria,
    Lesion,
    LesionType,
    NewLesionStatus,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadType,
    TargetStatus,
    Timepoint,
)
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.units import from_mm
from mrecist_reader.resources import load_profile

TargetCell = float | str | None

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
) -> Read:
    """Return a read with one timepoint per list entry (baseline first)."""
    non_targets = non_targets or {}
    new = new or {}
    organs = organs or {}
    count = len(next(iter([*targets.values(), *non_targets.values(), *new.values()])))
    days = days if days is not None else [30 * i for i in range(count)]
    dates = scan_dates if scan_dates is not None else [None] * count
    timepoints = tuple(
        Timepoint(i, "BASELINE" if i == 0 else f"FU{i}", dates[i], days[i])
        for i in range(count)
    )
    lesions: list[Lesion] = []
    observations: list[Observation] = []
    for lesion_id, cells in targets.items():
        lesions.append(
            Lesion(lesion_id, LesionType.TARGET, organs.get(lesion_id, Organ.LIVER))
        )
        for i, cell in enumerate(cells):
            obs = target_observation(lesion_id, i, cell, profile)
            if obs is not None:
                observations.append(obs)
    for lesion_type, table, enum in (
        (LesionType.NON_TARGET, non_targets, NonTargetStatus),
        (LesionType.NEW, new, NewLesionStatus),
    ):
        for lesion_id, tokens in table.items():
            lesions.append(
                Lesion(lesion_id, lesion_type, organs.get(lesion_id, Organ.LIVER))
            )
            observations.extend(
                Observation(lesion_id, i, enum(token))
                for i, token in enumerate(tokens)
                if token is not None
            )
    return Read(
        key=ReadKey("NCT06779461", "S01", "R1", ReadType.CENTRAL),
        site_id="SITE01",
        criteria=profile.criteria,
        protocol_profile=profile.name,
        timepoints=timepoints,
        lesions=tuple(lesions),
        observations=tuple(observations),
    )


def baseline_dates(count: int, step_days: int = 30) -> list[date | None]:
    """Return scan dates ``step_days`` apart from 2026-01-05."""
    return [date(2026, 1, 5) + timedelta(days=step_days * i) for i in range(count)]
