"""Write measurements.csv and responses.csv (shared/spec/data-transfer.md).

Rows come in a fixed order (read key, a final read after its source read, timepoint
index, lesions T, NT, N by number) so that reading a file and writing it again gives back the same bytes. Both writers are
atomic: the file is complete or unchanged.
"""

import io
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from mrecist_reader import __version__
from mrecist_reader.core.assess import Assessment, TimepointAssessment
from mrecist_reader.core.model import (
    KeptRoi,
    Lesion,
    LesionType,
    Observation,
    Read,
    ReadKey,
    ReadType,
    Timepoint,
)
from mrecist_reader.core.units import format_mm, format_percent
from mrecist_reader.transfer.atomic import atomic_write, atomic_write_all
from mrecist_reader.transfer.columns import (
    CALIPER_COLUMNS,
    MEASUREMENT_COLUMNS,
    NUMERIC_COLUMNS,
    RESPONSE_COLUMNS,
    ROI_COLUMNS,
    ROI_NUMERIC_COLUMNS,
    SCHEMA_VERSION,
    SECOND_DIAMETER_COLUMNS,
    ReadRole,
)
from mrecist_reader.transfer.spreadsheet import neutralise_row

logger = logging.getLogger(__name__)

Row = dict[str, str]

UID_COLUMNS: tuple[str, ...] = ("series_instance_uid", "sop_instance_uid")
"""The columns holding DICOM UIDs: a blinded export writes keyed pseudonyms there."""

_TYPE_ORDER = {LesionType.TARGET: 0, LesionType.NON_TARGET: 1, LesionType.NEW: 2}


def read_sort_key(key: ReadKey) -> tuple[str, str, str, str]:
    """Return the order of reads in a file: study, subject, reader, read type."""
    return (key.study_id, key.subject_id, key.reader_id, str(key.read_type))


def default_role(read: Read) -> ReadRole:
    """Return the ``read_role`` of a read that is not a final read.

    A central read is a ``primary`` read (of an assigned subject's primary reader, or
    of a subject without an assignment); a site's read is ``local``.
    """
    return ReadRole.LOCAL if read.key.read_type is ReadType.LOCAL else ReadRole.PRIMARY


@dataclass(frozen=True, slots=True)
class RoleRead:
    """A read with its ``read_role`` and ``source_reader`` (central-review.md §Exports).

    A ``final`` read's ``reader_id`` and ``source_reader`` are both the reader whose
    read was chosen or was concordant; ``source_reader`` is empty for any other role.
    """

    read: Read
    role: ReadRole
    source_reader: str = ""

    @classmethod
    def of(cls, read: Read) -> "RoleRead":
        """Return a read that is not a final read with its role (:func:`default_role`)."""
        return cls(read, default_role(read))


_ROLE_ORDER = {ReadRole.PRIMARY: 0, ReadRole.LOCAL: 0, ReadRole.FINAL: 1}


def role_sort_key(item: RoleRead) -> tuple[tuple[str, str, str, str], int]:
    """Return the order of reads in a file: by read key, a final read after its source."""
    return (read_sort_key(item.read.key), _ROLE_ORDER[item.role])


def lesion_sort_key(lesion: Lesion) -> tuple[int, int, str]:
    """Return the order of lesions in a file: targets, non-targets, new; then by number."""
    digits = re.search(r"\d+$", lesion.lesion_id)
    number = int(digits.group()) if digits else 0
    return (_TYPE_ORDER[lesion.lesion_type], number, lesion.lesion_id)


def format_coordinate(value: float) -> str:
    """Format a patient coordinate in millimetres with two decimals."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def format_timestamp(value: datetime | None) -> str:
    """Format a sign-off time as ISO 8601 UTC (``2026-03-01T14:03:22Z``); empty if none."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_cells(read: Read, timepoint: Timepoint, *, blinded: bool) -> Row:
    return {
        "schema_version": SCHEMA_VERSION,
        "study_id": read.key.study_id,
        "site_id": "" if blinded else read.site_id,
        "subject_id": read.key.subject_id,
        "reader_id": read.key.reader_id,
        "read_type": str(read.key.read_type),
        "criteria": str(read.criteria),
        "protocol_profile": read.protocol_profile,
        "timepoint": timepoint.label,
        "timepoint_index": str(timepoint.index),
        "scan_date": ""
        if blinded or timepoint.scan_date is None
        else timepoint.scan_date.isoformat(),
        "study_day": "" if timepoint.study_day is None else str(timepoint.study_day),
    }


def _role_cells(role: ReadRole, source_reader: str) -> Row:
    return {
        "read_role": str(role),
        "source_reader": source_reader if role is ReadRole.FINAL else "",
    }


def _sign_cells(timepoint: Timepoint) -> Row:
    return {
        "read_status": str(timepoint.read_status),
        "signed_at": format_timestamp(timepoint.signed_at),
        "software_version": __version__,
    }


def _observation_cells(lesion: Lesion, obs: Observation) -> Row:
    cells = {
        "lesion_id": lesion.lesion_id,
        "lesion_type": str(lesion.lesion_type),
        "organ": str(lesion.organ),
        "location": lesion.location,
        "status": str(obs.status),
        "viable_diameter_mm": "" if obs.diameter is None else format_mm(obs.diameter),
        "series_instance_uid": obs.series_instance_uid,
        "sop_instance_uid": obs.sop_instance_uid,
        "method": "" if obs.method is None else str(obs.method),
        "comment": obs.comment,
    }
    points = (*obs.caliper.p1_mm, *obs.caliper.p2_mm) if obs.caliper else None
    for number, axis_column in enumerate(CALIPER_COLUMNS):
        cells[axis_column] = "" if points is None else format_coordinate(points[number])
    return cells


def _with_roles(reads: Iterable[Read | RoleRead]) -> list[RoleRead]:
    """Return the reads with their roles, in the file's fixed order."""
    return sorted(
        (r if isinstance(r, RoleRead) else RoleRead.of(r) for r in reads),
        key=role_sort_key,
    )


def _evidence_cells(obs: Observation) -> Row:
    """Return the second version's diameters: the click's evidence, else empty."""
    evidence = obs.evidence
    cells: Row = dict.fromkeys(SECOND_DIAMETER_COLUMNS, "")
    if evidence is not None:
        whole, perpendicular = evidence.whole_diameter, evidence.perpendicular
        if whole is not None:
            cells["whole_diameter_mm"] = format_mm(whole)
        if perpendicular is not None:
            cells["viable_perpendicular_mm"] = format_mm(perpendicular)
    return cells


def rows_for_measurements(
    reads: Iterable[Read | RoleRead], *, blinded: bool = False
) -> Iterator[Row]:
    """Yield the measurements.csv rows of reads, in the file's fixed order.

    A plain :class:`Read` is written with its :func:`default_role`; a final read is
    given as a :class:`RoleRead`.
    """
    for item in _with_roles(reads):
        read = item.read
        roles = _role_cells(item.role, item.source_reader)
        lesions = sorted(read.lesions, key=lesion_sort_key)
        for timepoint in sorted(read.timepoints, key=lambda tp: tp.index):
            common = _read_cells(read, timepoint, blinded=blinded)
            sign = _sign_cells(timepoint)
            for lesion in lesions:
                obs = read.observation(lesion.lesion_id, timepoint.index)
                if obs is not None:
                    yield {
                        **common,
                        **_observation_cells(lesion, obs),
                        **sign,
                        **roles,
                        **_evidence_cells(obs),
                    }


def _statistic(value: float | None) -> str:
    return "" if value is None else format_coordinate(value)


def _roi_cells(roi: KeptRoi) -> Row:
    stats = roi.stats
    return {
        "lesion_id": roi.lesion_id,
        "roi_label": roi.label,
        "shape": str(roi.shape),
        "series_instance_uid": roi.series_instance_uid,
        "sop_instance_uid": roi.sop_instance_uid,
        "area_mm2": format_coordinate(stats.area_mm2),
        "pixel_count": str(stats.pixel_count),
        "mean": _statistic(stats.mean),
        "sd": _statistic(stats.sd),
        "min": _statistic(stats.minimum),
        "max": _statistic(stats.maximum),
        "unit": stats.unit,
        "outline_mm": ";".join(
            " ".join(format_coordinate(v) for v in point) for point in roi.points_mm
        ),
    }


def rows_for_rois(
    reads: Iterable[Read | RoleRead], *, blinded: bool = False
) -> Iterator[Row]:
    """Yield the rois.csv rows of reads: by read, timepoint, then in the order kept.

    ``blinded`` leaves ``site_id`` and ``scan_date`` empty, as in measurements.csv
    (the caller gives the UIDs their pseudonyms, as for measurements.csv).
    """
    for item in _with_roles(reads):
        read = item.read
        roles = _role_cells(item.role, item.source_reader)
        for timepoint in sorted(read.timepoints, key=lambda tp: tp.index):
            common = _read_cells(read, timepoint, blinded=blinded)
            sign = _sign_cells(timepoint)
            for roi in read.rois_at(timepoint.index):
                yield {**common, **_roi_cells(roi), **sign, **roles}


def rois_text(rows: Iterable[Row]) -> str:
    """Return rois.csv's text (header and rows) for an all-or-nothing export."""
    stream = io.StringIO()
    write_rows(stream, ROI_COLUMNS, rows, numeric=ROI_NUMERIC_COLUMNS)
    return stream.getvalue()


def _percent(value: Fraction | None) -> str:
    return "" if value is None else format_percent(value)


def _response_cells(row: TimepointAssessment) -> Row:
    def mm(value: int | None) -> str:
        return "" if value is None else format_mm(value)

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "target_sum_mm": mm(row.target_sum),
        "baseline_sum_mm": mm(row.baseline_sum),
        "nadir_sum_mm": mm(row.nadir_sum),
        "change_from_baseline_pct": _percent(row.change_from_baseline_pct),
        "change_from_nadir_pct": _percent(row.change_from_nadir_pct),
        "target_response": text(row.target_response),
        "non_target_response": text(row.non_target_response),
        "new_lesions": text(row.new_lesions),
        "overall_response": text(row.overall_response),
        "progression_backdated_to": text(row.progression_backdated_to),
        "best_response_to_date": text(row.best_response_to_date),
    }


def rows_for_responses(
    assessed: Sequence[tuple[Read | RoleRead, Assessment]], *, blinded: bool = False
) -> Iterator[Row]:
    """Yield the responses.csv rows: one per timepoint per read, reads in fixed order.

    A plain :class:`Read` is written with its :func:`default_role`; a final read is
    given as a :class:`RoleRead`.
    """
    pairs = [
        (r if isinstance(r, RoleRead) else RoleRead.of(r), assessment)
        for r, assessment in assessed
    ]
    for item, assessment in sorted(pairs, key=lambda pair: role_sort_key(pair[0])):
        read = item.read
        roles = _role_cells(item.role, item.source_reader)
        for row in assessment.timepoints:
            timepoint = read.timepoint(row.timepoint_index)
            if timepoint is None:
                continue
            yield {
                **_read_cells(read, timepoint, blinded=blinded),
                **_response_cells(row),
                **_sign_cells(timepoint),
                **roles,
            }


def write_rows(
    stream: TextIO,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    numeric: Collection[str] = NUMERIC_COLUMNS,
) -> None:
    """Write a header and rows as RFC 4180 CSV with LF line ends.

    Text cells that a spreadsheet would run as a formula get one leading apostrophe
    (:func:`~mrecist_reader.transfer.spreadsheet.neutralise`); the ``numeric``
    columns (by default the reads' ``NUMERIC_COLUMNS``) are written as they are.
    """
    stream.write(_csv_line(columns))
    for row in rows:
        safe = neutralise_row(row, numeric)
        stream.write(_csv_line([safe.get(column, "") for column in columns]))


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_line(values: Sequence[str]) -> str:
    """Return one RFC 4180 record with its LF line end.

    A field holding a comma, a quote, a CR or an LF is quoted (``csv.writer`` with
    an LF line terminator leaves a lone CR unquoted, which breaks the record).
    """
    return (
        ",".join(
            f'"{value.replace(chr(34), chr(34) * 2)}"'
            if _NEEDS_QUOTES.search(value)
            else value
            for value in values
        )
        + "\n"
    )


def write_measurements(
    path: Path, reads: Iterable[Read | RoleRead], *, blinded: bool = False
) -> None:
    """Write measurements.csv atomically (complete or not at all).

    Parameters
    ----------
    path
        The file to write.
    reads
        The reads; their rows are written in the file's fixed order.
    blinded
        Leave ``site_id`` and ``scan_date`` empty.

    """
    rows = list(rows_for_measurements(reads, blinded=blinded))
    with atomic_write(path) as stream:
        write_rows(stream, MEASUREMENT_COLUMNS, rows)
    logger.info("wrote %d measurement rows", len(rows))


def write_responses(
    path: Path,
    assessed: Sequence[tuple[Read | RoleRead, Assessment]],
    *,
    blinded: bool = False,
) -> None:
    """Write responses.csv atomically (complete or not at all).

    Parameters
    ----------
    path
        The file to write.
    assessed
        Each read with its assessment (:func:`mrecist_reader.core.assess.assess`).
    blinded
        Leave ``site_id`` and ``scan_date`` empty.

    """
    rows = list(rows_for_responses(assessed, blinded=blinded))
    with atomic_write(path) as stream:
        write_rows(stream, RESPONSE_COLUMNS, rows)
    logger.info("wrote %d response rows", len(rows))


EXPORT_FILES = ("measurements.csv", "responses.csv")
"""The two files of an export, in the order :func:`write_export` returns them."""


def write_export(
    folder: Path,
    reads: Sequence[Read],
    assessed: Sequence[tuple[Read, Assessment]],
    *,
    blinded: bool = False,
) -> tuple[Path, Path]:
    """Write measurements.csv and responses.csv into ``folder``: both files or neither.

    Parameters
    ----------
    folder
        An existing folder.
    reads
        The reads whose measurements are exported.
    assessed
        Each read with its assessment, for responses.csv.
    blinded
        Leave ``site_id`` and ``scan_date`` empty.

    Returns
    -------
    tuple[Path, Path]
        The paths of measurements.csv and responses.csv.

    """
    return write_export_rows(
        folder,
        list(rows_for_measurements(reads, blinded=blinded)),
        list(rows_for_responses(assessed, blinded=blinded)),
    )


def write_export_rows(
    folder: Path,
    measurement_rows: Iterable[Row],
    response_rows: Iterable[Row],
    *,
    extra: Mapping[str, str] | None = None,
    private: bool = False,
) -> tuple[Path, Path]:
    """Write rows made beforehand as measurements.csv and responses.csv: both or neither.

    Parameters
    ----------
    folder
        An existing folder.
    measurement_rows, response_rows
        The rows (:func:`rows_for_measurements`, :func:`rows_for_responses`), in the
        files' order; iterators are written as they come, never held whole (issue
        21, item 17).
    extra
        Further text files written in the same all-or-nothing step (name -> text),
        e.g. ``audit_head.txt``.
    private
        Readable by the owner only (a blinded export); otherwise the umask decides.

    Returns
    -------
    tuple[Path, Path]
        The paths of measurements.csv and responses.csv.

    """
    measurements, responses = (folder / name for name in EXPORT_FILES)
    others = dict(extra or {})
    paths = [measurements, responses, *(folder / name for name in others)]
    with atomic_write_all(paths, private=private) as (first, second, *rest):
        write_rows(first, MEASUREMENT_COLUMNS, measurement_rows)
        write_rows(second, RESPONSE_COLUMNS, response_rows)
        for stream, text in zip(rest, others.values(), strict=True):
            stream.write(text)
    logger.info("exported %s and %s", measurements.name, responses.name)
    return measurements, responses
