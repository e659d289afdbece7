"""A small, fully specified read used by the transfer tests and their golden files."""

from datetime import UTC, date, datetime

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

UID = "1.2.826.0.1.3680043.10.777"


def example_read(subject_id: str = "S01", reader_id: str = "R1") -> Read:
    """Return a read with every kind of cell: quotes, commas, non-ASCII, empty values."""
    signed = datetime(2026, 1, 8, 9, 15, 0, tzinfo=UTC)
    caliper = Caliper((-61.25, 20.5, 110.0), (-18.75, 33.0, 110.0))
    return Read(
        key=ReadKey("NCT06779461", subject_id, reader_id, ReadType.CENTRAL),
        site_id="SITE01",
        criteria=Criteria.MRECIST,
        protocol_profile="nct06779461",
        timepoints=(
            Timepoint(0, "BASELINE", date(2026, 1, 5), 0, ReadStatus.SIGNED, signed),
            Timepoint(1, "FU1", date(2026, 2, 4), 30),
            Timepoint(2, "FU2", date(2026, 3, 6), 60),
        ),
        lesions=(
            Lesion("NT1", LesionType.NON_TARGET, Organ.PORTAL_VEIN, "right portal vein"),
            Lesion("T2", LesionType.TARGET, Organ.LIVER, "segment IVa, “dome”"),
            Lesion("T1", LesionType.TARGET, Organ.LIVER, "segment VII – subcapsular"),
            Lesion("N1", LesionType.NEW, Organ.LIVER, "segment II"),
        ),
        observations=(
            Observation(
                "T1", 0, TargetStatus.MEASURED, 443, caliper,
                series_instance_uid=f"{UID}.1", sop_instance_uid=f"{UID}.1.40",
                method=Method.SEMI_AUTOMATIC_EDITED, comment='edited "rim", see note',
            ),
            Observation("T2", 0, TargetStatus.MEASURED, 320, method=Method.MANUAL),
            Observation("NT1", 0, NonTargetStatus.PRESENT),
            Observation("T1", 1, TargetStatus.MEASURED, 300, method=Method.MANUAL),
            Observation("T2", 1, TargetStatus.TOO_SMALL, 50),
            Observation("NT1", 1, NonTargetStatus.PRESENT),
            Observation("N1", 1, NewLesionStatus.EQUIVOCAL, comment="8 mm\nno washout"),
            Observation("T1", 2, TargetStatus.NOT_EVALUABLE, comment="motion"),
            Observation("T2", 2, TargetStatus.ABSENT, 0),
            Observation("NT1", 2, NonTargetStatus.PRESENT),
            Observation("N1", 2, NewLesionStatus.PRESENT),
        ),
    )  # fmt: skip
