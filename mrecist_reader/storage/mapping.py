"""Mapping between ORM rows and ``core.model`` dataclasses (private to storage)."""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.orm import Session

from mrecist_reader.core.model import (
    STATUSES_BY_TYPE,
    Caliper,
    Criteria,
    KeptRoi,
    KeyImage,
    Lesion,
    LesionType,
    MeasurementEvidence,
    Method,
    Observation,
    Organ,
    PointMm,
    Read,
    ReadKey,
    ReadStatus,
    ReadType,
    RoiShape,
    RoiStatistics,
    Timepoint,
)
from mrecist_reader.storage.tables import (
    KeyImageRow,
    LesionRow,
    MeasurementEvidenceRow,
    ObservationRow,
    ReadRow,
    RoiRow,
    SeriesRow,
    SiteRow,
    StudyRow,
    SubjectRow,
    TimepointRow,
)

RowT = TypeVar("RowT", StudyRow, SiteRow)


def find_read_row(session: Session, key: ReadKey) -> ReadRow | None:
    """Return the row of the read with this key, if stored."""
    statement = (
        select(ReadRow)
        .join(SubjectRow, ReadRow.subject_pk == SubjectRow.id)
        .join(StudyRow, SubjectRow.study_pk == StudyRow.id)
        .where(
            StudyRow.study_id == key.study_id,
            SubjectRow.subject_id == key.subject_id,
            ReadRow.reader_id == key.reader_id,
            ReadRow.read_type == str(key.read_type),
        )
    )
    return session.scalars(statement).one_or_none()


def read_key_of(session: Session, row: ReadRow) -> tuple[ReadKey, str]:
    """Return the key and site of a read row."""
    subject = session.get_one(SubjectRow, row.subject_pk)
    study = session.get_one(StudyRow, subject.study_pk)
    site = session.get_one(SiteRow, subject.site_pk)
    key = ReadKey(
        study.study_id, subject.subject_id, row.reader_id, ReadType(row.read_type)
    )
    return key, site.site_id


def to_read(session: Session, row: ReadRow) -> Read:
    """Build the core :class:`Read` of a stored read."""
    key, site_id = read_key_of(session, row)
    index_of = {tp.id: tp.index for tp in row.timepoints}
    evidence = _evidence_of(
        session, [obs.id for lesion in row.lesions for obs in lesion.observations]
    )
    observations = [
        (
            index_of[obs.timepoint_pk],
            position,
            _to_observation(lesion, obs, index_of, evidence.get(obs.id)),
        )
        for position, lesion in enumerate(row.lesions)
        for obs in lesion.observations
    ]
    observations.sort(key=lambda item: (item[0], item[1]))
    return Read(
        key=key,
        site_id=site_id,
        criteria=Criteria(row.criteria),
        protocol_profile=row.protocol_profile,
        timepoints=tuple(_to_timepoint(tp) for tp in row.timepoints),
        lesions=tuple(_to_lesion(lesion) for lesion in row.lesions),
        observations=tuple(obs for _, _, obs in observations),
        rois=_rois_of(session, row, index_of),
        key_images=_key_images_of(session, row, index_of),
    )


def _evidence_of(
    session: Session, observation_pks: Sequence[int]
) -> dict[int, MeasurementEvidence]:
    """Return the stored evidence of observations by their row IDs.

    Columns only: nothing enters the session's identity map, so a save may insert the
    same rows again.
    """
    if not observation_pks:
        return {}
    table = MeasurementEvidenceRow
    found = session.execute(
        select(
            table.observation_pk,
            table.whole_diameter_tenths,
            table.perpendicular_tenths,
            table.checks,
        ).where(table.observation_pk.in_(observation_pks))
    )
    return {
        pk: MeasurementEvidence(whole, perpendicular, _lines(checks))
        for pk, whole, perpendicular, checks in found
    }


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.split("\n") if line)


def _lesion_and_series_ids(row: ReadRow) -> tuple[dict[int, str], dict[int, str]]:
    """Return a read's lesion IDs and series UIDs by their row IDs."""
    lesion_of = {lesion.id: lesion.lesion_id for lesion in row.lesions}
    series_of = {
        s.id: s.series_instance_uid for tp in row.timepoints for s in tp.series
    }
    return lesion_of, series_of


def _rows_at(
    session: Session, table: type[KeyImageRow] | type[RoiRow], index_of: dict[int, int]
) -> Iterable[RowMapping]:
    """Return the rows of ``table`` at these timepoints, in the order they were kept."""
    return session.execute(
        select(table.__table__)
        .where(table.timepoint_pk.in_(list(index_of)))
        .order_by(table.id)
    ).mappings()


def _key_images_of(
    session: Session, row: ReadRow, index_of: dict[int, int]
) -> tuple[KeyImage, ...]:
    """Return the key images of a read's lesions, in the order they were marked."""
    if not index_of:
        return ()
    lesion_of, series_of = _lesion_and_series_ids(row)
    found = _rows_at(session, KeyImageRow, index_of)
    return tuple(
        KeyImage(
            timepoint_index=index_of[key["timepoint_pk"]],
            lesion_id=lesion_of[key["lesion_pk"]],
            series_instance_uid=series_of.get(key["series_pk"], ""),
            sop_instance_uid=key["sop_instance_uid"],
            slice_index=key["slice_index"],
            created_at=_aware(key["created_at"]),
        )
        for key in found
        if key["lesion_pk"] in lesion_of
    )


def _rois_of(
    session: Session, row: ReadRow, index_of: dict[int, int]
) -> tuple[KeptRoi, ...]:
    """Return the ROIs kept with a read, in the order they were kept."""
    if not index_of:
        return ()
    lesion_of, series_of = _lesion_and_series_ids(row)
    found = _rows_at(session, RoiRow, index_of)
    return tuple(
        KeptRoi(
            timepoint_index=index_of[roi["timepoint_pk"]],
            lesion_id=lesion_of.get(roi["lesion_pk"], ""),
            label=roi["label"],
            shape=RoiShape(roi["shape"]),
            points_mm=_points(roi["points_mm"]),
            series_instance_uid=series_of.get(roi["series_pk"], ""),
            sop_instance_uid=roi["sop_instance_uid"],
            stats=RoiStatistics(
                pixel_count=roi["pixel_count"],
                area_mm2=roi["area_mm2"],
                mean=roi["mean"],
                sd=roi["sd"],
                minimum=roi["minimum"],
                maximum=roi["maximum"],
                unit=roi["unit"],
            ),
            created_at=_aware(roi["created_at"]),
        )
        for roi in found
    )


def _points(text: str) -> tuple[PointMm, ...]:
    return tuple((float(x), float(y), float(z)) for x, y, z in json.loads(text))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _to_timepoint(row: TimepointRow) -> Timepoint:
    signed_at = row.signed_at
    if signed_at is not None and signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)  # SQLite keeps no zone: stored as UTC
    return Timepoint(
        index=row.index,
        label=row.label,
        scan_date=row.scan_date,
        study_day=row.study_day,
        read_status=ReadStatus(row.read_status),
        signed_at=signed_at,
    )


def _to_lesion(row: LesionRow) -> Lesion:
    return Lesion(
        lesion_id=row.lesion_id,
        lesion_type=LesionType(row.lesion_type),
        organ=Organ(row.organ),
        location=row.location,
    )


def _to_observation(
    lesion: LesionRow,
    row: ObservationRow,
    index_of: dict[int, int],
    evidence: MeasurementEvidence | None,
) -> Observation:
    status_enum = STATUSES_BY_TYPE[LesionType(lesion.lesion_type)]
    return Observation(
        lesion_id=lesion.lesion_id,
        timepoint_index=index_of[row.timepoint_pk],
        status=status_enum(row.status),  # type: ignore[arg-type]
        diameter=row.diameter_tenths,
        caliper=_to_caliper(row),
        series_instance_uid=row.series.series_instance_uid if row.series else "",
        sop_instance_uid=row.sop_instance_uid,
        method=Method(row.method) if row.method else None,
        comment=row.comment,
        evidence=evidence,
    )


def _to_caliper(row: ObservationRow) -> Caliper | None:
    p1 = (row.p1_x_mm, row.p1_y_mm, row.p1_z_mm)
    p2 = (row.p2_x_mm, row.p2_y_mm, row.p2_z_mm)
    if None in p1 or None in p2:
        return None
    return Caliper(p1, p2)  # type: ignore[arg-type]


def subject_row(session: Session, read: Read) -> SubjectRow:
    """Return (creating when needed) the study, site and subject rows of a read."""
    study = _get_or_add(session, StudyRow, study_id=read.key.study_id)
    site = _get_or_add(session, SiteRow, study_pk=study.id, site_id=read.site_id)
    subject = session.scalars(
        select(SubjectRow).where(
            SubjectRow.study_pk == study.id,
            SubjectRow.subject_id == read.key.subject_id,
        )
    ).one_or_none()
    if subject is None:
        subject = SubjectRow(
            study_pk=study.id, site_pk=site.id, subject_id=read.key.subject_id
        )
        session.add(subject)
        session.flush()
    subject.site_pk = site.id
    return subject


def _get_or_add(session: Session, table: type[RowT], **values: object) -> RowT:
    row = session.scalars(select(table).filter_by(**values)).one_or_none()
    if row is None:
        row = table(**values)
        session.add(row)
        session.flush()
    return row


def fill_read_row(session: Session, row: ReadRow, read: Read) -> None:
    """Replace a read row's content with the read's (one transaction, by the caller).

    For central reads the scan date is never stored (blinding: study days only).
    """
    row.criteria = str(read.criteria)
    row.protocol_profile = read.protocol_profile
    row.timepoints.clear()
    row.lesions.clear()
    session.flush()  # delete the old content before inserting rows with the same keys
    is_central = read.key.read_type is ReadType.CENTRAL
    timepoints = {
        tp.index: _timepoint_row(tp, blinded=is_central) for tp in read.timepoints
    }
    row.timepoints.extend(timepoints.values())
    evidence: list[tuple[ObservationRow, MeasurementEvidence]] = []
    lesion_rows: dict[str, LesionRow] = {}
    for position, lesion in enumerate(read.lesions):
        lesion_row = LesionRow(
            position=position,
            lesion_id=lesion.lesion_id,
            lesion_type=str(lesion.lesion_type),
            organ=str(lesion.organ),
            location=lesion.location,
        )
        for obs in read.observations:
            if obs.lesion_id == lesion.lesion_id:
                tp_row = timepoints[obs.timepoint_index]
                obs_row = _observation_row(obs, tp_row)
                lesion_row.observations.append(obs_row)
                if obs.evidence is not None:
                    evidence.append((obs_row, obs.evidence))
        row.lesions.append(lesion_row)
        lesion_rows[lesion.lesion_id] = lesion_row
    roi_rows = [(roi, timepoints[roi.timepoint_index]) for roi in read.rois]
    for roi, tp_row in roi_rows:  # the ROI's series, added before the flush
        _series_row(tp_row, roi.series_instance_uid)
    key_rows = [(key, timepoints[key.timepoint_index]) for key in read.key_images]
    for key, tp_row in key_rows:  # the image's series, added before the flush
        _series_row(tp_row, key.series_instance_uid)
    if evidence or roi_rows or key_rows:
        session.flush()  # the new rows' IDs
        _insert_evidence(session, evidence)
        _insert_rois(session, roi_rows, lesion_rows)
        _insert_key_images(session, key_rows, lesion_rows)


def _insert_key_images(
    session: Session,
    keys: list[tuple[KeyImage, TimepointRow]],
    lesion_rows: dict[str, LesionRow],
) -> None:
    """Store the key images of a read's lesions, in their order."""
    if not keys:
        return
    values = []
    for key, tp_row in keys:
        series = _series_row(tp_row, key.series_instance_uid)
        values.append(
            {
                "timepoint_pk": tp_row.id,
                "lesion_pk": lesion_rows[key.lesion_id].id,
                "series_pk": None if series is None else series.id,
                "sop_instance_uid": key.sop_instance_uid,
                "slice_index": key.slice_index,
                "created_at": key.created_at.astimezone(UTC),
            }
        )
    session.execute(insert(KeyImageRow), values)


def _insert_evidence(
    session: Session, evidence: list[tuple[ObservationRow, MeasurementEvidence]]
) -> None:
    """Store the click's evidence of observations.

    Inserted as rows of values: the old rows went with their observations (the
    database's cascade).
    """
    if evidence:
        session.execute(
            insert(MeasurementEvidenceRow),
            [
                {
                    "observation_pk": obs_row.id,
                    "whole_diameter_tenths": found.whole_diameter,
                    "perpendicular_tenths": found.perpendicular,
                    "checks": "\n".join(found.checks),
                }
                for obs_row, found in evidence
            ],
        )


def _insert_rois(
    session: Session,
    rois: list[tuple[KeptRoi, TimepointRow]],
    lesion_rows: dict[str, LesionRow],
) -> None:
    """Store the ROIs kept with a read, in their order."""
    if not rois:
        return
    values = []
    for roi, tp_row in rois:
        series = _series_row(tp_row, roi.series_instance_uid)
        lesion = lesion_rows.get(roi.lesion_id) if roi.lesion_id else None
        values.append(
            {
                "timepoint_pk": tp_row.id,
                "lesion_pk": None if lesion is None else lesion.id,
                "series_pk": None if series is None else series.id,
                "sop_instance_uid": roi.sop_instance_uid,
                "label": roi.label,
                "shape": str(roi.shape),
                "points_mm": json.dumps([list(p) for p in roi.points_mm]),
                "pixel_count": roi.stats.pixel_count,
                "area_mm2": roi.stats.area_mm2,
                "mean": roi.stats.mean,
                "sd": roi.stats.sd,
                "minimum": roi.stats.minimum,
                "maximum": roi.stats.maximum,
                "unit": roi.stats.unit,
                "created_at": roi.created_at.astimezone(UTC),
            }
        )
    session.execute(insert(RoiRow), values)


def _timepoint_row(tp: Timepoint, *, blinded: bool) -> TimepointRow:
    signed_at = tp.signed_at.astimezone(UTC) if tp.signed_at else None
    return TimepointRow(
        index=tp.index,
        label=tp.label,
        scan_date=None if blinded else tp.scan_date,
        study_day=tp.study_day,
        read_status=str(tp.read_status),
        signed_at=signed_at,
    )


def _observation_row(obs: Observation, tp_row: TimepointRow) -> ObservationRow:
    p1 = obs.caliper.p1_mm if obs.caliper else (None, None, None)
    p2 = obs.caliper.p2_mm if obs.caliper else (None, None, None)
    return ObservationRow(
        timepoint=tp_row,
        status=str(obs.status),
        diameter_tenths=obs.diameter,
        p1_x_mm=p1[0],
        p1_y_mm=p1[1],
        p1_z_mm=p1[2],
        p2_x_mm=p2[0],
        p2_y_mm=p2[1],
        p2_z_mm=p2[2],
        method=str(obs.method) if obs.method else None,
        series=_series_row(tp_row, obs.series_instance_uid),
        sop_instance_uid=obs.sop_instance_uid,
        comment=obs.comment,
    )


def _series_row(tp_row: TimepointRow, uid: str) -> SeriesRow | None:
    if not uid:
        return None
    for series in tp_row.series:
        if series.series_instance_uid == uid:
            return series
    series = SeriesRow(series_instance_uid=uid)
    tp_row.series.append(series)
    return series


def new_read_row(session: Session, read: Read) -> ReadRow:
    """Add an empty row for a read that is not stored yet."""
    row = ReadRow(
        subject_pk=subject_row(session, read).id,
        reader_id=read.key.reader_id,
        read_type=str(read.key.read_type),
        criteria=str(read.criteria),
        protocol_profile=read.protocol_profile,
    )
    session.add(row)
    return row


def now_utc() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)
