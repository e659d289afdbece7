"""The tests' one synthetic DICOM writer, as a few composable pieces (pydicom only).

- :func:`new_dataset` a dataset with file meta, UIDs and an :class:`Identity`;
  :func:`set_plane` its geometry; :func:`set_pixels` its pixels; :func:`save` writes it
  (compressing JPEG 2000 / RLE syntaxes, or bare without preamble and file meta).
- :class:`SeriesSpec` and :func:`write_series`: one series of single-frame slices;
  :func:`write_study`: one series per timepoint and phase, each in its own folder.
- Hostile or messy cases are small mutations of what the kit wrote: :func:`rewrite`
  (read, change, write back), :func:`raw` (an element set to raw bytes).
"""

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.fileset import FileSet
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
    generate_uid,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)

Pixels = npt.NDArray[np.int64]
SliceValues = Callable[[int], npt.NDArray[np.integer]]
"""Slice k's stored pixel values (rows x columns)."""


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


# ---------------------------------------------------------------- one dataset


@dataclass(frozen=True)
class Identity:
    """Who and when a file is of; an empty value leaves its element out."""

    patient_name: str = "Secret^Name"
    patient_id: str = "P-SECRET"
    birth_date: str = ""
    institution: str = ""
    study_date: str = "20250101"
    study_time: str = "101000"
    study_id: str = "1"
    protocol_id: str = ""
    site_id: str = ""
    subject_id: str = ""
    timepoint_id: str = ""

    def elements(self) -> dict[str, str]:
        """Return the DICOM keyword of every value set."""
        keywords = {
            "PatientName": self.patient_name,
            "PatientID": self.patient_id,
            "PatientBirthDate": self.birth_date,
            "InstitutionName": self.institution,
            "StudyDate": self.study_date,
            "StudyTime": self.study_time,
            "StudyID": self.study_id,
            "ClinicalTrialProtocolID": self.protocol_id,
            "ClinicalTrialSiteID": self.site_id,
            "ClinicalTrialSubjectID": self.subject_id,
            "ClinicalTrialTimePointID": self.timepoint_id,
        }
        return {keyword: value for keyword, value in keywords.items() if value}


def new_dataset(
    sop_class: str,
    syntax: str = ExplicitVRLittleEndian,
    *,
    study_uid: str | None = None,
    series_uid: str,
    sop_uid: str | None = None,
    identity: Identity | None = None,
    preamble: bool = False,
) -> Dataset:
    """Return a dataset with file meta, its UIDs and ``identity`` (no image yet).

    A new SOP Instance UID unless ``sop_uid``; no study UID or identity when ``None``.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid or generate_uid())
    meta.TransferSyntaxUID = UID(syntax)
    ds = Dataset()
    ds.file_meta = meta
    if preamble:
        ds.preamble = b"\0" * 128
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    if study_uid is not None:
        ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    for keyword, value in (identity.elements() if identity else {}).items():
        setattr(ds, keyword, value)
    return ds


DS = float | str
"""A decimal string's value: a number, or the text a writer chose for it."""


def set_plane(
    ds: Dataset,
    position: Sequence[DS],
    orientation: Sequence[DS] = AXIAL,
    pixel_spacing: Sequence[DS] = (1.0, 1.0),
    thickness: DS | None = None,
) -> None:
    """Give ``ds`` its plane: position, orientation, spacing (and slice thickness)."""
    ds.ImagePositionPatient = list(position)
    ds.ImageOrientationPatient = list(orientation)
    ds.PixelSpacing = list(pixel_spacing)
    if thickness is not None:
        ds.SliceThickness = thickness


def set_pixels(
    ds: Dataset,
    stored: npt.NDArray[np.integer],
    *,
    bits_stored: int = 12,
    signed: bool = False,
    rescale: tuple[float, float] | None = None,
) -> None:
    """Give ``ds`` 16-bit monochrome pixels (``stored`` values; rows x columns).

    ``rescale`` is (slope, intercept); ``None`` leaves the rescale out.
    """
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape[-2:]
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    ds.PixelData = stored.astype("<i2" if signed else "<u2").tobytes()


def save(ds: Dataset, path: Path, *, preamble: bool = True) -> Path:
    """Write ``ds`` to ``path`` in its transfer syntax; without ``preamble``, bare.

    A JPEG 2000 or RLE syntax is compressed here (the dataset holds raw pixels);
    a bare file has neither preamble nor file meta, as some old writers leave them.
    """
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax in (JPEG2000Lossless, RLELossless):
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.compress(syntax)
    if preamble:
        ds.save_as(path, enforce_file_format=True)
        return path
    del ds.file_meta
    ds.preamble = None
    pydicom.dcmwrite(
        path, ds, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=True
    )
    return path


# ---------------------------------------------------------------- mutations


def rewrite(
    paths: Iterable[Path],
    mutate: Callable[[Dataset], None],
    *,
    enforce_file_format: bool = False,
) -> list[Path]:
    """Read each file, change it with ``mutate``, write it back; return the paths.

    By default the file is written as the mutation left it, even where that breaks the
    file format (as a hostile or careless writer would).
    """
    written: list[Path] = []
    for path in paths:
        dataset = pydicom.dcmread(path)
        mutate(dataset)
        dataset.save_as(path, enforce_file_format=enforce_file_format)
        written.append(path)
    return written


def set_elements(**values: object) -> Callable[[Dataset], None]:
    """Return a mutation setting elements by keyword (``PatientID=""`` blanks one)."""

    def mutate(dataset: Dataset) -> None:
        for keyword, value in values.items():
            setattr(dataset, keyword, value)

    return mutate


def compressed(syntax: str, plugin: str = "") -> Callable[[Dataset], None]:
    """Return a mutation compressing a dataset's pixels into ``syntax``."""

    def mutate(dataset: Dataset) -> None:
        dataset.compress(syntax, encoding_plugin=plugin)

    return mutate


def overlay_plane(
    mask: npt.NDArray[np.bool_], origin: tuple[int, int] = (1, 1), group: int = 0x6000
) -> Callable[[Dataset], None]:
    """Return a mutation adding a graphics overlay plane (``group``, 1-based origin)."""
    from pydicom.pixels import pack_bits

    def mutate(dataset: Dataset) -> None:
        rows, columns = mask.shape
        dataset.add_new((group, 0x0010), "US", rows)
        dataset.add_new((group, 0x0011), "US", columns)
        dataset.add_new((group, 0x0040), "CS", "G")
        dataset.add_new((group, 0x0050), "SS", list(origin))
        dataset.add_new((group, 0x0100), "US", 1)
        dataset.add_new((group, 0x0102), "US", 0)
        dataset.add_new((group, 0x3000), "OW", pack_bits(mask.astype(np.uint8).ravel()))

    return mutate


def raw(dataset: Dataset, keyword: str, value: bytes, vr: str | None = None) -> None:
    """Set an element to raw bytes, as a hostile writer would (no validation)."""
    tag = Tag(keyword)
    padded = value if len(value) % 2 == 0 else value + b" "
    dataset[tag] = RawDataElement(
        tag, vr or dictionary_VR(tag), len(padded), padded, 0, False, True
    )


# ---------------------------------------------------------------- one series


@dataclass
class SeriesSpec:
    """What to write; defaults give a 10-slice 32x32 axial CT, 2.5 mm apart.

    ``pixels`` gives slice k's stored values (default :func:`stored_values`);
    ``shuffle`` shuffles file names and InstanceNumbers (else ``IM0001.dcm``... in
    slice order, InstanceNumber k + 1); ``name`` formats file names from k instead.
    """

    n_slices: int = 10
    rows: int = 32
    columns: int = 32
    orientation: Sequence[float] = AXIAL
    pixel_spacing: tuple[float, float] = (0.7, 0.9)
    slice_step: float = 2.5
    origin: tuple[float, float, float] = (-10.0, 20.0, 30.0)
    modality: str = "CT"
    description: str = "LIVER ARTERIAL"
    series_number: int = 3
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
    name: str = "IM{number:04d}.dcm"
    identity: Identity = field(default_factory=Identity)
    pixels: SliceValues | None = None
    extra: dict[str, object] = field(default_factory=dict)


def stored_values(spec: SeriesSpec, k: int) -> Pixels:
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
    points = [
        origin + d * normal + k * spec.tilt_mm_per_slice * column
        for k, d in enumerate(offsets)
    ]
    return [(float(x), float(y), float(z)) for x, y, z in points]


def make_dataset(spec: SeriesSpec, k: int, position: Sequence[float]) -> Dataset:
    """Return slice k of the series as a pydicom Dataset (with file meta)."""
    ds = new_dataset(
        CTImageStorage if spec.modality == "CT" else MRImageStorage,
        ImplicitVRLittleEndian if spec.implicit else ExplicitVRLittleEndian,
        study_uid=spec.study_uid,
        series_uid=spec.series_uid,
        identity=spec.identity,
    )
    ds.Modality = spec.modality
    ds.SeriesDescription = spec.description
    ds.SeriesNumber = spec.series_number
    ds.AcquisitionTime = "101500"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    set_plane(
        ds,
        [f"{v:.6f}" for v in position],
        [f"{v:.8f}" for v in spec.orientation],
        [str(v) for v in spec.pixel_spacing],
        str(spec.slice_step),
    )
    stored = spec.pixels(k) if spec.pixels is not None else stored_values(spec, k)
    set_pixels(ds, stored, bits_stored=spec.bits_stored, signed=spec.signed)
    ds.RescaleSlope = str(spec.slope)
    ds.RescaleIntercept = str(spec.intercept)
    for keyword, value in spec.extra.items():
        setattr(ds, keyword, value)
    return ds


def write_series(
    folder: Path, spec: SeriesSpec | None = None, *, seed: int = 7
) -> list[Path]:
    """Write the series into ``folder`` (see :class:`SeriesSpec` for names and order).

    Returns the paths in true slice order (slice 0 first).
    """
    spec = spec or SeriesSpec()
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    positions = slice_positions(spec)
    numbers = list(range(1, len(positions) + 1))
    names = [spec.name.format(number=n, k=n - 1) for n in numbers]
    if spec.shuffle:
        rng.shuffle(numbers)
        rng.shuffle(names)
    paths: list[Path] = []
    for k, position in enumerate(positions):
        ds = make_dataset(spec, k, position)
        ds.InstanceNumber = numbers[k]
        paths.append(save(ds, folder / names[k]))
    return paths


# ---------------------------------------------------------------- one study


def write_study(
    root: Path,
    volumes: Mapping[str, SliceValues],
    spec: SeriesSpec,
    *,
    phases: Sequence[str] = ("Arterial",),
    first_date: date = date(2026, 2, 3),
    days_apart: int = 30,
) -> Path:
    """Write one series per timepoint and phase, ``root/<label>/<phase>/``.

    ``volumes`` maps a timepoint label to its slices' stored values (baseline first);
    every timepoint is one study ``days_apart`` after the previous one, and each phase
    one series of ``spec`` (numbered from ``spec.series_number``, described by the
    phase), with the label as StudyID and trial time point.
    """
    for number, (label, pixels) in enumerate(volumes.items()):
        scan_date = first_date + timedelta(days=days_apart * number)
        identity = replace(
            spec.identity,
            study_date=f"{scan_date:%Y%m%d}",
            study_id=label,
            timepoint_id=label,
        )
        study_uid = generate_uid()
        for series_number, description in enumerate(phases, start=spec.series_number):
            phase_spec = replace(
                spec,
                description=description,
                series_number=series_number,
                series_uid=generate_uid(),
                study_uid=study_uid,
                identity=identity,
                pixels=pixels,
            )
            write_series(root / label / description.replace(" ", "_"), phase_spec)
    return root


def write_dicomdir(
    files: Iterable[Path], media: Path, *, skip_unindexable: bool = False
) -> Path:
    """Copy ``files`` onto "media" as a DICOM file set (pydicom's); return its DICOMDIR.

    With ``skip_unindexable``, files pydicom cannot read or describe in a record (junk,
    no file meta, non-images without the record's required values) are left out.
    """
    file_set = FileSet()
    try:
        for path in files:
            try:
                file_set.add(pydicom.dcmread(path))
            except (InvalidDicomError, ValueError, OSError, EOFError, AttributeError):
                if not skip_unindexable:
                    raise
        file_set.write(media)
    finally:
        file_set._stage["t"].cleanup()  # pydicom has no public close for its stage
    return media / "DICOMDIR"
