"""Hand-built reads for GUI tests (real core types, real rules engine)."""

from datetime import date

from mrecist_reader.core.model import (
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


TARGETS = (
    ("T1", Organ.LIVER, "segment VII"),
    ("T2", Organ.LIVER, "segment IVa"),
    ("T3", Organ.LYMPH_NODE, "portocaval"),
    ("T4", Organ.LUNG, "right lower lobe"),
    ("T5", Organ.PERITONEUM, "greater omentum"),
)


def five_target_read(*, t1_fu2_comment: str = "") -> Read:
    """Five targets, two non-targets and a new lesion at FU2; three timepoints.

    Long locations and the longest organ names; ``t1_fu2_comment`` is T1's comment at FU2.
    """
    lesions = [Lesion(i, LesionType.TARGET, organ, loc) for i, organ, loc in TARGETS]
    lesions += [
        Lesion("NT1", LesionType.NON_TARGET, Organ.PORTAL_VEIN, "main portal vein"),
        Lesion("NT2", LesionType.NON_TARGET, Organ.LIVER, "segment II"),
        Lesion("N1", LesionType.NEW, Organ.LYMPH_NODE, "left para-aortic, renal hilum"),
    ]
    observations = [Observation("N1", 2, NewLesionStatus.EQUIVOCAL)]
    for index in range(3):
        observations += [
            Observation(
                lesion_id,
                index,
                TargetStatus.MEASURED,
                420 - 30 * index - 40 * k,
                method=Method.MANUAL,
                comment=t1_fu2_comment if (lesion_id, index) == ("T1", 2) else "",
            )
            for k, (lesion_id, _, _) in enumerate(TARGETS)
        ]
        observations += [
            Observation("NT1", index, NonTargetStatus.PRESENT),
            Observation("NT2", index, NonTargetStatus.PRESENT),
        ]
    return Read(
        key=ReadKey("NCT06779461", "S01", "R01", ReadType.CENTRAL),
        site_id="SITE1",
        criteria=Criteria.MRECIST,
        protocol_profile="nct06779461",
        timepoints=(
            Timepoint(0, "BASELINE", date(2026, 1, 5), 0),
            Timepoint(1, "FU1", date(2026, 3, 2), 56),
            Timepoint(2, "FU2", date(2026, 4, 27), 112),
        ),
        lesions=tuple(lesions),
        observations=tuple(observations),
    )
