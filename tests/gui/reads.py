"""Hand-built reads for GUI tests (real core types, real rules engine)."""

from datetime import date

from mrecist_reader.core.model import (
    Criteria,
    Lesion,
    LesionType,
    Method,
    NonTargetStatus,
    Observation,
    Organ,
    Read,
    ReadKey,
    ReadType,
    TargetStatus,
    Timepoint,
)


def two_target_read(fu1_t1: int = 250, fu1_t2: int = 200) -> Read:
    """Baseline T1 40.0 mm + T2 35.0 mm + NT1, and FU1 with the given diameters."""
    key = ReadKey("NCT06779461", "S01", "R01", ReadType.CENTRAL)
    lesions = (
        Lesion("T1", LesionType.TARGET, Organ.LIVER, "segment VII"),
        Lesion("T2", LesionType.TARGET, Organ.LIVER, "segment IVa"),
        Lesion("NT1", LesionType.NON_TARGET, Organ.PORTAL_VEIN, ""),
    )
    observations = (
        Observation("T1", 0, TargetStatus.MEASURED, 400, method=Method.MANUAL),
        Observation("T2", 0, TargetStatus.MEASURED, 350, method=Method.SEMI_AUTOMATIC),
        Observation("NT1", 0, NonTargetStatus.PRESENT),
        Observation("T1", 1, TargetStatus.MEASURED, fu1_t1, method=Method.MANUAL),
        Observation("T2", 1, TargetStatus.MEASURED, fu1_t2, method=Method.MANUAL),
        Observation("NT1", 1, NonTargetStatus.PRESENT),
    )
    return Read(
        key=key,
        site_id="SITE1",
        criteria=Criteria.MRECIST,
        protocol_profile="nct06779461",
        timepoints=(
            Timepoint(0, "BASELINE", date(2026, 1, 1), 0),
            Timepoint(1, "FU1", date(2026, 1, 31), 30),
        ),
        lesions=lesions,
        observations=observations,
    )
