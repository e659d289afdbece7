"""A small read used by the storage tests (awkward text included), built with the kit."""

from datetime import UTC, date, datetime

from mrecist_reader.core.model import Caliper, Method, Organ, Read, ReadType
from tests.kit.reads import Detail, build_read


def sample_read(
    reader_id: str = "R1",
    read_type: ReadType = ReadType.LOCAL,
    subject_id: str = "S01",
) -> Read:
    """Return a read with two timepoints, a signed baseline and every lesion type."""
    dated = read_type is ReadType.LOCAL
    return build_read(
        {"T1": [45.2, "too_small"]},
        non_targets={"NT1": ["present", "absent"]},
        new={"N1": [None, "equivocal"]},
        organs={"NT1": Organ.PERITONEUM},
        locations={
            "T1": 'segment VII, "dome"',
            "NT1": "ascites\nmoderate",
            "N1": "сегмент III 肝",
        },
        details={
            ("T1", 0): Detail(
                Caliper((-12.5, 40.25, -101.0), (32.7, 40.25, -101.0)),
                "1.2.826.0.1.1",
                "1.2.826.0.1.1.7",
                Method.SEMI_AUTOMATIC_EDITED,
                "edited, twice",
            ),
            ("T1", 1): Detail(comment="tiny"),
            ("N1", 1): Detail(comment="8 mm, atypical"),
        },
        scan_dates=[date(2026, 3, 1), date(2026, 3, 31)] if dated else None,
        signed=1,
        signed_at=datetime(2026, 3, 2, 9, 15, 0, tzinfo=UTC),
        subject_id=subject_id,
        reader_id=reader_id,
        read_type=read_type,
    )
