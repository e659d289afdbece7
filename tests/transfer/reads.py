"""A small, fully specified read used by the transfer tests and their golden files."""

from datetime import date

from mrecist_reader.core.model import Caliper, Method, Organ, Read
from tests.kit.reads import Detail, build_read

UID = "1.2.826.0.1.3680043.10.777"


def example_read(subject_id: str = "S01", reader_id: str = "R1") -> Read:
    """Return a read with every kind of cell: quotes, commas, non-ASCII, empty values."""
    caliper = Caliper((-61.25, 20.5, 110.0), (-18.75, 33.0, 110.0))
    return build_read(
        {"T1": [44.3, 30.0, "ne"], "T2": [32.0, "too_small", "absent"]},
        non_targets={"NT1": ["present"] * 3},
        new={"N1": [None, "equivocal", "present"]},
        organs={"NT1": Organ.PORTAL_VEIN},
        locations={
            "NT1": "right portal vein",
            "T2": "segment IVa, “dome”",
            "T1": "segment VII – subcapsular",
            "N1": "segment II",
        },
        lesion_order=["NT1", "T2", "T1", "N1"],
        methods={"T1": Method.MANUAL, "T2": Method.MANUAL},
        details={
            ("T1", 0): Detail(
                caliper,
                f"{UID}.1",
                f"{UID}.1.40",
                Method.SEMI_AUTOMATIC_EDITED,
                'edited "rim", see note',
            ),
            ("N1", 1): Detail(comment="8 mm\nno washout"),
            ("T1", 2): Detail(comment="motion"),
        },
        scan_dates=[date(2026, 1, 5), date(2026, 2, 4), date(2026, 3, 6)],
        signed=1,
        subject_id=subject_id,
        reader_id=reader_id,
    )
