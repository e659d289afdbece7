"""A tiny two-timepoint CT study with an enhancing sphere, written with the kit (GUI tests).

Identity values are deliberately recognisable so the blinding test can look for them.
"""

from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.kit import dicom

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "PID-778899"
BIRTH_DATE = "19580214"
INSTITUTION = "Saint Elsewhere Hospital"
BASELINE_DATE = date(2026, 2, 3)

SHAPE = (24, 64, 64)
SPACING = (0.8, 0.8)
SLICE_MM = 2.5
ORIGIN = (-25.6, -25.6, -30.0)
CENTRE = 12
"""The slice through the lesion's centre (slices 11 and 12 straddle it)."""

SPEC = dicom.SeriesSpec(
    n_slices=SHAPE[0],
    rows=SHAPE[1],
    columns=SHAPE[2],
    pixel_spacing=SPACING,
    slice_step=SLICE_MM,
    origin=ORIGIN,
    bits_stored=16,
    shuffle=False,
    name="{k:03d}.dcm",
    identity=dicom.Identity(
        patient_name=PATIENT_NAME,
        patient_id=PATIENT_ID,
        birth_date=BIRTH_DATE,
        institution=INSTITUTION,
        study_time="101500",
        protocol_id="NCT06779461",
        site_id="SITE7",
        subject_id="S01",
    ),
    extra={"AccessionNumber": "", "ReferringPhysicianName": ""},
)


def lesion_volume(radius_mm: float) -> npt.NDArray[np.int16]:
    """Liver background 60 HU with an enhancing 200 HU sphere at the centre (HU)."""
    k, r, c = np.indices(SHAPE, dtype=np.float64)
    centre = (np.asarray(SHAPE) - 1) / 2
    dist = np.sqrt(
        ((k - centre[0]) * SLICE_MM) ** 2
        + ((r - centre[1]) * SPACING[0]) ** 2
        + ((c - centre[2]) * SPACING[1]) ** 2
    )
    return np.where(dist <= radius_mm, 200, 60).astype(np.int16)


def lesion_centre_mm() -> tuple[float, float, float]:
    """Return the patient position of the sphere's centre."""
    centre = (np.asarray(SHAPE) - 1) / 2
    return (
        ORIGIN[0] + centre[2] * SPACING[1],
        ORIGIN[1] + centre[1] * SPACING[0],
        ORIGIN[2] + centre[0] * SLICE_MM,
    )


def _stored(radius_mm: float) -> dicom.SliceValues:
    """Return slice k's stored values of the sphere's volume (HU + 1024)."""
    stored = lesion_volume(radius_mm).astype(np.int32) + 1024
    return lambda k: stored[k]


def write_study(
    root: Path,
    radii_mm: dict[str, float],
    *,
    phases: tuple[str, ...] = ("Arterial",),
) -> Path:
    """Write one series per phase and timepoint (label -> lesion radius, 30 days apart).

    ``phases`` are series descriptions ("Arterial", "Portal venous"...); each timepoint
    has one series of each, in its own folder.
    """
    volumes = {label: _stored(radius) for label, radius in radii_mm.items()}
    return dicom.write_study(
        root, volumes, SPEC, phases=phases, first_date=BASELINE_DATE
    )
