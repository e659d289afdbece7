"""A small read used by the storage tests (awkward text included)."""

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


def sample_read(
    reader_id: str = "R1",
    read_type: ReadType = ReadType.LOCAL,
    subject_id: str = "S01",
) -> Read:
    """Return a read with two timepoints, a signed baseline and every lesion type."""
    dated = read_type is ReadType.LOCAL
    return Read(
        key=ReadKey("NCT06779461", subject_id, reader_id, read_type),
        site_id="SITE01",
        criteria=Criteria.MRECIST,
        protocol_profile="nct06779461",
        timepoints=(
            Timepoint(
                0,
                "BASELINE",
                date(2026, 3, 1) if dated else None,
                0,
                ReadStatus.SIGNED,
                datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC),
            ),
            Timepoint(1, "FU1", date(2026, 3, 31) if dated else None, 30),
        ),
        lesions=(
            Lesion("T1", LesionType.TARGET, Organ.LIVER, 'segment VII, "dome"'),
            Lesion("NT1", LesionType.NON_TARGET, Organ.PERITONEUM, "ascites\nmoderate"),
            Lesion("N1", LesionType.NEW, Organ.LIVER, "сегмент III 肝"),
        ),
        observations=(
            Observation(
                "T1",
                0,
                TargetStatus.MEASURED,
                452,
                Caliper((-12.5, 40.25, -101.0), (32.7, 40.25, -101.0)),
                "1.2.826.0.1.1",
                "1.2.826.0.1.1.7",
                Method.SEMI_AUTOMATIC_EDITED,
                "edited, twice",
            ),
            Observation("NT1", 0, NonTargetStatus.PRESENT),
            Observation("T1", 1, TargetStatus.TOO_SMALL, 50, comment="tiny"),
            Observation("NT1", 1, NonTargetStatus.ABSENT),
            Observation("N1", 1, NewLesionStatus.EQUIVOCAL, comment="8 mm, atypical"),
        ),
    )
