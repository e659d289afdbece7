"""Typed ORM tables of the reads database (private to :mod:`mrecist_reader.storage`).

The schema mirrors ``core.model``: study > site/subject > read > timepoint, lesion >
observation, plus the hash-chained audit trail. Tokens are checked by the database itself
(CHECK constraints built from the core enums), so a row that breaks the data-transfer
contract cannot be stored by any client.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mrecist_reader.core.field_limits import MAX_LENGTHS
from mrecist_reader.core.model import (
    Criteria,
    LesionType,
    Method,
    NewLesionStatus,
    NonTargetStatus,
    Organ,
    ReadStatus,
    ReadType,
    TargetStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def tokens_check(column: str, *enums: type[StrEnum]) -> str:
    """Return a SQL condition allowing only the enums' tokens in ``column``."""
    tokens = sorted({str(member) for enum in enums for member in enum})
    listed = ", ".join(f"'{token}'" for token in tokens)
    return f"{column} IN ({listed})"


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StudyRow(Base):
    """A clinical trial (``study_id`` such as ``NCT06779461``)."""

    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[str] = mapped_column(String(MAX_LENGTHS["study_id"]), unique=True)


class SiteRow(Base):
    """A site of a study."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("study_pk", "site_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    site_id: Mapped[str] = mapped_column(String(MAX_LENGTHS["site_id"]))


class SubjectRow(Base):
    """A trial subject (the trial's identifier, never a patient name)."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("study_pk", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    site_pk: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(String(MAX_LENGTHS["subject_id"]))


class ReadRow(Base):
    """One reader's read of one subject (central and local reads are separate rows)."""

    __tablename__ = "reads"
    __table_args__ = (
        UniqueConstraint("subject_pk", "reader_id", "read_type"),
        CheckConstraint(tokens_check("read_type", ReadType), name="read_type"),
        CheckConstraint(tokens_check("criteria", Criteria), name="criteria"),
        CheckConstraint("reader_id <> ''", name="reader_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_pk: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE")
    )
    reader_id: Mapped[str] = mapped_column(String(MAX_LENGTHS["reader_id"]))
    read_type: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[str] = mapped_column(String(16))
    protocol_profile: Mapped[str] = mapped_column(
        String(MAX_LENGTHS["protocol_profile"])
    )
    timepoints: Mapped[list["TimepointRow"]] = relationship(
        cascade="all, delete-orphan", order_by="TimepointRow.index"
    )
    lesions: Mapped[list["LesionRow"]] = relationship(
        cascade="all, delete-orphan", order_by="LesionRow.position"
    )


class TimepointRow(Base):
    """An imaging timepoint of a read, with its own draft/signed state."""

    __tablename__ = "timepoints"
    __table_args__ = (
        UniqueConstraint("read_pk", "index"),
        UniqueConstraint("read_pk", "label"),
        CheckConstraint(tokens_check("read_status", ReadStatus), name="read_status"),
        CheckConstraint('"index" >= 0', name="index"),
        CheckConstraint(
            "(read_status = 'signed') = (signed_at IS NOT NULL)", name="signed_at"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    read_pk: Mapped[int] = mapped_column(ForeignKey("reads.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(MAX_LENGTHS["timepoint"]))
    scan_date: Mapped[date | None] = mapped_column(Date)
    study_day: Mapped[int | None] = mapped_column(Integer)
    read_status: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    series: Mapped[list["SeriesRow"]] = relationship(cascade="all, delete-orphan")


class SeriesRow(Base):
    """An image series of a timepoint that a measurement was made on."""

    __tablename__ = "series_refs"
    __table_args__ = (UniqueConstraint("timepoint_pk", "series_instance_uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoints.id", ondelete="CASCADE")
    )
    series_instance_uid: Mapped[str] = mapped_column(
        String(MAX_LENGTHS["series_instance_uid"])
    )


class LesionRow(Base):
    """A lesion followed through a read; ``lesion_id`` is unique within the read."""

    __tablename__ = "lesions"
    __table_args__ = (
        UniqueConstraint("read_pk", "lesion_id"),
        CheckConstraint(tokens_check("lesion_type", LesionType), name="lesion_type"),
        CheckConstraint(tokens_check("organ", Organ), name="organ"),
        CheckConstraint("lesion_id <> ''", name="lesion_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    read_pk: Mapped[int] = mapped_column(ForeignKey("reads.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    lesion_id: Mapped[str] = mapped_column(String(MAX_LENGTHS["lesion_id"]))
    lesion_type: Mapped[str] = mapped_column(String(16))
    organ: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(Text)
    observations: Mapped[list["ObservationRow"]] = relationship(
        cascade="all, delete-orphan"
    )


class ObservationRow(Base):
    """What was recorded for one lesion at one timepoint (at most one per pair)."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("lesion_pk", "timepoint_pk"),
        CheckConstraint(
            tokens_check("status", TargetStatus, NonTargetStatus, NewLesionStatus),
            name="status",
        ),
        CheckConstraint(
            f"method IS NULL OR {tokens_check('method', Method)}", name="method"
        ),
        CheckConstraint(
            "diameter_tenths IS NULL OR diameter_tenths >= 0", name="diameter"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lesion_pk: Mapped[int] = mapped_column(ForeignKey("lesions.id", ondelete="CASCADE"))
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoints.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    diameter_tenths: Mapped[int | None] = mapped_column(Integer)
    p1_x_mm: Mapped[float | None] = mapped_column(Float)
    p1_y_mm: Mapped[float | None] = mapped_column(Float)
    p1_z_mm: Mapped[float | None] = mapped_column(Float)
    p2_x_mm: Mapped[float | None] = mapped_column(Float)
    p2_y_mm: Mapped[float | None] = mapped_column(Float)
    p2_z_mm: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str | None] = mapped_column(String(32))
    series_pk: Mapped[int | None] = mapped_column(
        ForeignKey("series_refs.id", ondelete="SET NULL")
    )
    sop_instance_uid: Mapped[str] = mapped_column(
        String(MAX_LENGTHS["sop_instance_uid"])
    )
    comment: Mapped[str] = mapped_column(Text)
    series: Mapped[SeriesRow | None] = relationship()
    timepoint: Mapped[TimepointRow] = relationship()


class ProtocolProfileRow(Base):
    """The content of a protocol profile a read was assessed with (schema 7).

    Keyed by the SHA-256 of ``content`` (the profile's TOML text), so a signed response
    never depends on a file outside the database (issue 21, item 3).
    """

    __tablename__ = "protocol_profiles"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_LENGTHS["protocol_profile"]))
    content: Mapped[str] = mapped_column(Text)


class ReadProfileRow(Base):
    """The stored profile a read is assessed with (schema 7; one per read)."""

    __tablename__ = "read_profiles"
    read_pk: Mapped[int] = mapped_column(
        ForeignKey("reads.id", ondelete="CASCADE"), primary_key=True
    )
    profile_sha256: Mapped[str] = mapped_column(ForeignKey("protocol_profiles.sha256"))


class MeasurementEvidenceRow(Base):
    """What the click that proposed a measurement also found (schema 7, issue 16).

    ``checks`` is the proposal's checks and warnings, one per line.
    """

    __tablename__ = "measurement_evidence"
    __table_args__ = (
        CheckConstraint(
            "(whole_diameter_tenths IS NULL OR whole_diameter_tenths >= 0) AND "
            "(perpendicular_tenths IS NULL OR perpendicular_tenths >= 0)",
            name="diameters",
        ),
    )
    observation_pk: Mapped[int] = mapped_column(
        ForeignKey("observations.id", ondelete="CASCADE"), primary_key=True
    )
    whole_diameter_tenths: Mapped[int | None] = mapped_column(Integer)
    perpendicular_tenths: Mapped[int | None] = mapped_column(Integer)
    checks: Mapped[str] = mapped_column(Text)


class RoiRow(Base):
    """A region of interest a reader kept as evidence (schema 7, issue 15).

    ``points_mm`` is the outline as JSON ``[[x, y, z], ...]`` in patient millimetres;
    the statistics are those shown to the reader when it was kept (``unit`` "HU" on
    CT, empty where the pixel values have no unit).
    """

    __tablename__ = "rois"
    __table_args__ = (
        CheckConstraint("shape IN ('ellipse', 'freehand')", name="shape"),
        CheckConstraint("pixel_count >= 0 AND area_mm2 >= 0", name="size"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoints.id", ondelete="CASCADE")
    )
    lesion_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lesions.id", ondelete="CASCADE")
    )
    series_pk: Mapped[int | None] = mapped_column(
        ForeignKey("series_refs.id", ondelete="SET NULL")
    )
    sop_instance_uid: Mapped[str] = mapped_column(
        String(MAX_LENGTHS["sop_instance_uid"])
    )
    label: Mapped[str] = mapped_column(String(64))
    shape: Mapped[str] = mapped_column(String(16))
    points_mm: Mapped[str] = mapped_column(Text)
    pixel_count: Mapped[int] = mapped_column(Integer)
    area_mm2: Mapped[float] = mapped_column(Float)
    mean: Mapped[float | None] = mapped_column(Float)
    sd: Mapped[float | None] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KeyImageRow(Base):
    """An image a reader marked as a key image of a lesion (schema 8, issue 15 item 8).

    ``slice_index`` is the image's place in its series as loaded when it was marked.
    """

    __tablename__ = "key_images"
    __table_args__ = (CheckConstraint("slice_index >= 0", name="slice_index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoints.id", ondelete="CASCADE")
    )
    lesion_pk: Mapped[int] = mapped_column(ForeignKey("lesions.id", ondelete="CASCADE"))
    series_pk: Mapped[int | None] = mapped_column(
        ForeignKey("series_refs.id", ondelete="SET NULL")
    )
    sop_instance_uid: Mapped[str] = mapped_column(
        String(MAX_LENGTHS["sop_instance_uid"])
    )
    slice_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One entry of the audit trail (21 CFR Part 11), chained by SHA-256 hashes."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at_utc: Mapped[str] = mapped_column(String(32))
    reader_id: Mapped[str] = mapped_column(String(64))
    os_user: Mapped[str] = mapped_column(String(128))
    read_ref: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[str] = mapped_column(Text, server_default="")
    """The read's content hashes after the change (schema 3; empty before)."""


class AuditHeadRow(Base):
    """The last entry of the audit trail (schema 2): detects a deleted tail entry."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class DatabaseSecretRow(Base):
    """A secret of this database (schema 4): never exported, never logged.

    ``pseudonym_key`` (hex) keys the HMAC of subject pseudonyms
    (:mod:`mrecist_reader.core.pseudonym`).
    """

    __tablename__ = "database_secrets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class UidPseudonymRow(Base):
    """A DICOM UID and the keyed pseudonym blinded exports carry for it (schema 6).

    ``pseudonym`` is ``2.25.`` and 128 bits of an HMAC of ``original_uid`` with the
    database's pseudonym secret (:mod:`mrecist_reader.storage.uids`); the row lets the
    site resolve a pseudonym a sponsor asks about. Never exported.
    """

    __tablename__ = "uid_pseudonyms"
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    original_uid: Mapped[str] = mapped_column(String(64), unique=True)


_READER = MAX_LENGTHS["reader_id"]
_SUBJECT = MAX_LENGTHS["subject_id"]


class AssignmentRow(Base):
    """A subject's reader 1, reader 2 and adjudicator (schema 5, central-review.md)."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(
            "reader_1 <> reader_2 AND reader_1 <> adjudicator "
            "AND reader_2 <> adjudicator",
            name="distinct_readers",
        ),
    )
    subject_id: Mapped[str] = mapped_column(String(_SUBJECT), primary_key=True)
    reader_1: Mapped[str] = mapped_column(String(_READER))
    reader_2: Mapped[str] = mapped_column(String(_READER))
    adjudicator: Mapped[str] = mapped_column(String(_READER))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TreatmentDayRow(Base):
    """A treatment session of an assigned subject (schema 5; never shown to a reader)."""

    __tablename__ = "treatment_days"
    __table_args__ = (CheckConstraint("session >= 1", name="session"),)
    subject_id: Mapped[str] = mapped_column(String(_SUBJECT), primary_key=True)
    session: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_day: Mapped[int] = mapped_column(Integer)
    treatment: Mapped[str] = mapped_column(String(64))


class AdjudicationRow(Base):
    """A read cut of a subject and its outcome (schema 5): a row of adjudication.csv.

    A decision is written once: only a row still ``awaiting`` takes one.
    """

    __tablename__ = "adjudications"
    __table_args__ = (
        UniqueConstraint("subject_id", "cut_index"),
        CheckConstraint(
            "status IN ('adjudicated', 'awaiting', 'concordant')", name="status"
        ),
        CheckConstraint(
            "(status = 'adjudicated') = (decided_at IS NOT NULL)", name="decided_at"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(_SUBJECT))
    cut_index: Mapped[int] = mapped_column(Integer)
    cut: Mapped[str] = mapped_column(String(MAX_LENGTHS["timepoint"]))
    reader_1: Mapped[str] = mapped_column(String(_READER))
    reader_2: Mapped[str] = mapped_column(String(_READER))
    status: Mapped[str] = mapped_column(String(16))
    discordant_variables: Mapped[str] = mapped_column(Text)
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    adjudicator: Mapped[str] = mapped_column(String(_READER))
    chosen_reader: Mapped[str] = mapped_column(String(_READER))
    reason: Mapped[str] = mapped_column(String(32))
    rationale: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
