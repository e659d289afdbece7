"""Write small synthetic DICOM series with pydicom for the imaging tests."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    generate_uid,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def oblique_orientation(
    degrees_x: float = 20.0, degrees_z: float = 30.0
) -> tuple[float, ...]:
    """Return an IOP rotated about x then z (orthonormal row and column cosines)."""
    ax, az = np.radians(degrees_x), np.radians(degrees_z)
    rot_x = np.array(
        [[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]]
    )
    rot_z = np.array(
        [[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]]
    )
    rotation = rot_z @ rot_x
    row, column = rotation @ np.array([1.0, 0, 0]), rotation @ np.array([0, 1.0, 0])
    return tuple(float(v) for v in (*row, *column))


@dataclass
class SeriesSpec:
    """What to write; defaults give a 10-slice 32x32 axial CT, 2.5 mm apart."""

    n_slices: int = 10
    rows: int = 32
    columns: int = 32
    orientation: Sequence[float] = AXIAL
    pixel_spacing: tuple[float, float] = (0.7, 0.9)
    slice_step: float = 2.5
    origin: tuple[float, float, float] = (-10.0, 20.0, 30.0)
    modality: str = "CT"
    description: str = "LIVER ARTERIAL"
    slope: float = 1.0
    intercept: float = -1024.0
    bits_stored: int = 12
    signed: bool = False
    implicit: bool = False
    series_uid: str = field(default_factory=generate_uid)
    study_uid: str = field(default_factory=generate_uid)
    tilt_mm_per_slice: float = 0.0
    offsets: Sequence[float] | None = None  # distances along the normal per slice
    shuffle: bool = True
    extra: dict[str, object] = field(default_factory=dict)


def stored_values(spec: SeriesSpec, k: int) -> npt.NDArray[np.int64]:
    """Return the stored value of every pixel of slice k (depends on k, row, column)."""
    rows = np.arange(spec.rows)[:, None]
    columns = np.arange(spec.columns)[None, :]
    return (100 * k + 3 * rows + columns + 7).astype(np.int64)


def slice_positions(spec: SeriesSpec) -> list[tuple[float, float, float]]:
    """Return the ImagePositionPatient of each slice, in slice order."""
    row = np.asarray(spec.orientation[:3])
    column = np.asarray(spec.orientation[3:])
    normal = np.cross(row, column)
    offsets = (
        spec.offsets
        if spec.offsets is not None
        else [k * spec.slice_step for k in range(spec.n_slices)]
    )
    origin = np.asarray(spec.origin)
    return [
        tuple(
            float(v) for v in origin + d * normal + k * spec.tilt_mm_per_slice * column
        )
        for k, d in enumerate(offsets)
    ]


def make_dataset(spec: SeriesSpec, k: int, position: Sequence[float]) -> Dataset:
    """Return slice k of the series as a pydicom Dataset (with file meta)."""
    meta = FileMetaDataset()
    sop_class = CTImageStorage if spec.modality == "CT" else MRImageStorage
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = (
        ImplicitVRLittleEndian if spec.implicit else ExplicitVRLittleEndian
    )
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = spec.study_uid
    ds.SeriesInstanceUID = spec.series_uid
    ds.Modality = spec.modality
    ds.SeriesDescription = spec.description
    ds.SeriesNumber = 3
    ds.PatientID = "P-SECRET"
    ds.PatientName = "Secret^Name"
    ds.StudyDate = "20250101"
    ds.StudyTime = "101000"
    ds.StudyID = "1"
    ds.AcquisitionTime = "101500"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
    ds.ImageOrientationPatient = [f"{v:.8f}" for v in spec.orientation]
    ds.PixelSpacing = [str(v) for v in spec.pixel_spacing]
    ds.SliceThickness = str(spec.slice_step)
    ds.Rows = spec.rows
    ds.Columns = spec.columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = spec.bits_stored
    ds.HighBit = spec.bits_stored - 1
    ds.PixelRepresentation = 1 if spec.signed else 0
    ds.RescaleSlope = str(spec.slope)
    ds.RescaleIntercept = str(spec.intercept)
    for keyword, value in spec.extra.items():
        setattr(ds, keyword, value)
    values = stored_values(spec, k).astype(np.int16 if spec.signed else np.uint16)
    ds.PixelData = values.tobytes()
    return ds


def write_series(
    folder: Path, spec: SeriesSpec | None = None, *, seed: int = 7
) -> list[Path]:
    """Write the series into ``folder`` with shuffled names and InstanceNumbers.

    Returns the paths in true slice order (slice 0 first).
    """
    spec = spec or SeriesSpec()
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    positions = slice_positions(spec)
    numbers = list(range(1, len(positions) + 1))
    names = [f"IM{n:04d}.dcm" for n in numbers]
    if spec.shuffle:
        rng.shuffle(numbers)
        rng.shuffle(names)
    paths: list[Path] = []
    for k, position in enumerate(positions):
        ds = make_dataset(spec, k, position)
        ds.InstanceNumber = numbers[k]
        path = folder / names[k]
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def raw(dataset: Dataset, keyword: str, value: bytes, vr: str | None = None) -> None:
    """Set an element to raw bytes, as a hostile writer would (no validation)."""
    tag = Tag(keyword)
    padded = value if len(value) % 2 == 0 else value + b" "
    dataset[tag] = RawDataElement(
        tag, vr or dictionary_VR(tag), len(padded), padded, 0, False, True
    )
