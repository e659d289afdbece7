"""Write a tiny two-timepoint CT study as real DICOM files (for GUI tests).

Identity values are deliberately recognisable so the blinding test can look for them.
"""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

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


def lesion_volume(radius_mm: float) -> np.ndarray:
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


def _slice_dataset(
    array: np.ndarray,
    k: int,
    *,
    label: str,
    day: int,
    series_uid: str,
    study_uid: str,
    description: str = "Arterial",
    number: int = 3,
) -> Dataset:
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.Modality = "CT"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.InstitutionName = INSTITUTION
    ds.StudyDate = (BASELINE_DATE + timedelta(days=day)).strftime("%Y%m%d")
    ds.StudyTime = "101500"
    ds.StudyID = label
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SeriesDescription = description
    ds.SeriesNumber = number
    ds.InstanceNumber = k + 1
    ds.ClinicalTrialProtocolID = "NCT06779461"
    ds.ClinicalTrialSiteID = "SITE7"
    ds.ClinicalTrialSubjectID = "S01"
    ds.ClinicalTrialTimePointID = label
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [ORIGIN[0], ORIGIN[1], ORIGIN[2] + k * SLICE_MM]
    ds.PixelSpacing = list(SPACING)
    ds.SliceThickness = SLICE_MM
    ds.Rows, ds.Columns = SHAPE[1], SHAPE[2]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.PixelData = (array[k].astype(np.int32) + 1024).astype(np.uint16).tobytes()
    return ds


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
    for number, (label, radius) in enumerate(radii_mm.items()):
        array = lesion_volume(radius)
        study_uid = generate_uid()
        for series_number, description in enumerate(phases, start=3):
            folder = root / label / description.replace(" ", "_")
            folder.mkdir(parents=True)
            series_uid = generate_uid()
            for k in range(SHAPE[0]):
                ds = _slice_dataset(
                    array,
                    k,
                    label=label,
                    day=30 * number,
                    series_uid=series_uid,
                    study_uid=study_uid,
                    description=description,
                    number=series_number,
                )
                ds.save_as(folder / f"{k:03d}.dcm", enforce_file_format=True)
    return root


def write_dicomdir(study: Path, media: Path) -> Path:
    """Copy a written study onto "media" with a DICOMDIR (pydicom's FileSet)."""
    from pydicom.fileset import FileSet

    fileset = FileSet()
    for path in sorted(study.rglob("*.dcm")):
        fileset.add(path)
    fileset.write(media)
    fileset._stage["t"].cleanup()  # pydicom's staging folder (else a ResourceWarning)
    return media / "DICOMDIR"
