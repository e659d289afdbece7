"""Arrange scanned series into subjects, timepoints and series for a reader's worklist.

Subjects are grouped by ``subject_id`` (ClinicalTrialSubjectID, else PatientID). Within a
subject, a timepoint is one ``timepoint_label`` (ClinicalTrialTimePointID) or, without a
label, one study (StudyInstanceUID). The baseline is the timepoint labelled BASELINE
(also ``BL``, ``SCREENING``), else the one with the earliest study date; then follow-up
labels in their natural order (``FU1``, ``FU2``, ``FU10``), then by study date.
``study_day`` is the whole number of days from the baseline's study date.

Series within a timepoint: arterial first, then portal venous, delayed, pre-contrast,
unknown. Localizers (scouts, surveys, topograms: ``scan`` labels their stacks
``localizer ...``) are set aside in ``TimepointEntry.localizers``: none is a volume to
read, and a 3-plane survey would otherwise be three rows of one series. A study made
only of localizers gives no timepoint (:func:`set_aside` lists such stacks).

The only date-bearing field is ``TimepointEntry.scan_date`` (ISO text), which a blinded
UI must not show; everything else is safe to display.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from mrecist_reader.imaging.volume import Phase, SeriesInfo

logger = logging.getLogger(__name__)

_BASELINE_LABELS = {"BASELINE", "BL", "SCREENING", "SCR", "BASE"}
_PHASE_ORDER = {
    Phase.ARTERIAL: 0,
    Phase.PORTAL_VENOUS: 1,
    Phase.DELAYED: 2,
    Phase.PRE_CONTRAST: 3,
    Phase.UNKNOWN: 4,
}


@dataclass(frozen=True, slots=True)
class TimepointEntry:
    """One timepoint of a subject.

    Attributes
    ----------
    index
        0 for the baseline, then 1, 2... in time order.
    label
        ClinicalTrialTimePointID, or ``BASELINE`` / ``TP<index>`` when the data have none.
    study_day
        Whole days from the baseline scan (baseline 0); None without study dates.
    scan_date
        ISO date of the scan: identifying, never show it in a blinded read.
    study_instance_uids
        The studies of this timepoint.
    series
        The series to read, arterial first (localizers excluded).
    localizers
        The timepoint's localizer stacks, set aside (not for reading).

    """

    index: int
    label: str
    study_day: int | None
    scan_date: str
    study_instance_uids: tuple[str, ...]
    series: tuple[SeriesInfo, ...]
    localizers: tuple[SeriesInfo, ...] = ()

    @property
    def is_baseline(self) -> bool:
        """Return whether this is the baseline timepoint."""
        return self.index == 0

    @property
    def arterial_series(self) -> tuple[SeriesInfo, ...]:
        """Return the series classified as arterial phase."""
        return tuple(s for s in self.series if s.phase is Phase.ARTERIAL)


@dataclass(frozen=True, slots=True)
class SubjectEntry:
    """One subject: trial identifiers and its timepoints, baseline first."""

    subject_id: str
    study_id: str
    site_id: str
    timepoints: tuple[TimepointEntry, ...]


def build_worklist(series: Sequence[SeriesInfo]) -> tuple[SubjectEntry, ...]:
    """Return subjects (sorted by id) -> timepoints (baseline first) -> series.

    Parameters
    ----------
    series
        Stacks found by ``scan``.

    Returns
    -------
    tuple[SubjectEntry, ...]
        One entry per ``subject_id``; ``study_id``/``site_id`` come from the trial tags
        (the first non-empty value).

    """
    by_subject: dict[str, list[SeriesInfo]] = defaultdict(list)
    for item in series:
        by_subject[item.subject_id].append(item)
    subjects = (
        _subject(subject_id, items) for subject_id, items in sorted(by_subject.items())
    )
    return tuple(s for s in subjects if s.timepoints)


def is_localizer(series: SeriesInfo) -> bool:
    """Return whether a stack is a localizer (scout, survey, topogram)."""
    return series.stack_label.startswith("localizer")


def set_aside(series: Sequence[SeriesInfo]) -> tuple[SeriesInfo, ...]:
    """Return the localizer stacks that no worklist timepoint lists for reading.

    All localizers are set aside from ``TimepointEntry.series``; these are the ones of
    studies made only of localizers, which have no timepoint at all.
    """
    readable = {_group_of(s) for s in series if not is_localizer(s)}
    return tuple(s for s in series if is_localizer(s) and _group_of(s) not in readable)


def _group_of(item: SeriesInfo) -> tuple[str, str]:
    return (item.subject_id, _timepoint_key(item))


def _subject(subject_id: str, items: list[SeriesInfo]) -> SubjectEntry:
    groups: dict[str, list[SeriesInfo]] = defaultdict(list)
    for item in items:
        groups[_timepoint_key(item)].append(item)
    groups = {
        key: group
        for key, group in groups.items()
        if any(not is_localizer(s) for s in group)
    }
    ordered = sorted(groups.items(), key=lambda kv: _timepoint_sort_key(kv[0], kv[1]))
    baseline_date = _study_date(ordered[0][1]) if ordered else None
    timepoints = tuple(
        _timepoint(index, key, group, baseline_date)
        for index, (key, group) in enumerate(ordered)
    )
    return SubjectEntry(
        subject_id=subject_id,
        study_id=next((s.trial_protocol_id for s in items if s.trial_protocol_id), ""),
        site_id=next((s.trial_site_id for s in items if s.trial_site_id), ""),
        timepoints=timepoints,
    )


def _timepoint_key(item: SeriesInfo) -> str:
    if item.timepoint_label:
        return "label:" + item.timepoint_label
    return "study:" + item.study_instance_uid


def _study_date(items: Sequence[SeriesInfo]) -> date | None:
    dates = [
        s.identity.study_date or s.identity.series_date
        for s in items
        if s.identity.study_date or s.identity.series_date
    ]
    return min(d for d in dates if d is not None) if dates else None


def _label_order(label: str) -> tuple[int, int, str]:
    upper = label.upper()
    if upper in _BASELINE_LABELS:
        return (0, 0, upper)
    number = re.search(r"(\d+)", upper)
    return (1, int(number.group(1)) if number else 1 << 30, upper)


def _timepoint_sort_key(key: str, items: Sequence[SeriesInfo]) -> tuple[object, ...]:
    """Baseline label first, then by study date, then by the label's number."""
    label = key.removeprefix("label:") if key.startswith("label:") else ""
    rank, number, text = _label_order(label) if label else (1, 1 << 30, key)
    found = _study_date(items)
    return (rank, found.toordinal() if found else 1 << 30, number, text)


def _series_sort_key(item: SeriesInfo) -> tuple[object, ...]:
    return (
        _PHASE_ORDER[item.phase],
        item.series_number if item.series_number is not None else 1 << 30,
        item.series_description,
        item.stack_label,
    )


def _timepoint(
    index: int, key: str, items: list[SeriesInfo], baseline_date: date | None
) -> TimepointEntry:
    found = _study_date(items)
    if key.startswith("label:"):
        label = key.removeprefix("label:")
    else:
        label = "BASELINE" if index == 0 else f"TP{index}"
    return TimepointEntry(
        index=index,
        label=label,
        study_day=(found - baseline_date).days if found and baseline_date else None,
        scan_date=found.isoformat() if found else "",
        study_instance_uids=tuple(sorted({s.study_instance_uid for s in items})),
        series=tuple(
            sorted((s for s in items if not is_localizer(s)), key=_series_sort_key)
        ),
        localizers=tuple(
            sorted((s for s in items if is_localizer(s)), key=_series_sort_key)
        ),
    )
