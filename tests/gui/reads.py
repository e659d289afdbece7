"""Named reads for GUI tests, built with the kit's one builder (real core types)."""

from datetime import date

from mrecist_reader.core.model import Method, Organ, Read
from tests.kit.reads import Detail, build_read


def two_target_read(fu1_t1: int = 250, fu1_t2: int = 200) -> Read:
    """Baseline T1 40.0 mm + T2 35.0 mm + NT1, and FU1 with the given diameters (tenths)."""
    return build_read(
        {"T1": [40.0, fu1_t1 / 10], "T2": [35.0, fu1_t2 / 10]},
        non_targets={"NT1": ["present", "present"]},
        organs={"NT1": Organ.PORTAL_VEIN},
        locations={"T1": "segment VII", "T2": "segment IVa"},
        methods={"T1": Method.MANUAL, "T2": Method.MANUAL},
        details={("T2", 0): Detail(method=Method.SEMI_AUTOMATIC)},
        scan_dates=[date(2026, 1, 1), date(2026, 1, 31)],
        reader_id="R01",
        site_id="SITE1",
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
    return build_read(
        {
            lesion_id: [42.0 - 3 * index - 4 * k for index in range(3)]
            for k, (lesion_id, _, _) in enumerate(TARGETS)
        },
        non_targets={"NT1": ["present"] * 3, "NT2": ["present"] * 3},
        new={"N1": [None, None, "equivocal"]},
        organs={lesion_id: organ for lesion_id, organ, _ in TARGETS}
        | {"NT1": Organ.PORTAL_VEIN, "N1": Organ.LYMPH_NODE},
        locations={lesion_id: location for lesion_id, _, location in TARGETS}
        | {
            "NT1": "main portal vein",
            "NT2": "segment II",
            "N1": "left para-aortic, renal hilum",
        },
        methods={lesion_id: Method.MANUAL for lesion_id, _, _ in TARGETS},
        details={("T1", 2): Detail(method=Method.MANUAL, comment=t1_fu2_comment)},
        scan_dates=[date(2026, 1, 5), date(2026, 3, 2), date(2026, 4, 27)],
        days=[0, 56, 112],
        reader_id="R01",
        site_id="SITE1",
    )
