"""Write a messy, never-seen CT/MR study the way PACS exports and CDs really look.

Unlike the kit's ``write_series`` (one clean series per call), :func:`write_messy_study`
writes a whole exam in one go, from the kit's dataset pieces, as vendors do: a two-plane scout, pre-contrast, arterial, portal
venous and delayed series with GE/Siemens/Philips/Canon description habits, each in a
different transfer syntax (JPEG 2000 lossless, RLE, deflate, implicit VR without
preamble, JPEG-LS from pydicom's bundled MR), files named by random UID-like strings
with no extension and scattered over nested folders (a series split across folders),
a multi-echo MR (4-D), an enhanced multi-frame MR, a dose-report page, an SR, a
presentation state, a key-object selection, a second study of the same patient in
the same folder, and junk (text, PNG, empty file, truncated DICOM, ``.DS_Store``,
``Thumbs.db``). It returns what ``scan`` must find: every stack with its expected
ordered positions and modality values, and every file that must be skipped.
"""

import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    EnhancedMRImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
)

from tests.kit.dicom import (
    AXIAL,
    CORONAL,
    SAGITTAL,
    Identity,
    new_dataset,
    save,
    set_pixels,
    set_plane,
)
from tests.kit.dicom import write_dicomdir as kit_dicomdir

ROOT = "1.2.826.0.1.3680043.10.1337."
"""UID root of the generated study (fixed, so every run writes the same UIDs)."""
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
GRAYSCALE_PR = "1.2.840.10008.5.1.4.1.1.11.1"
KEY_OBJECT = "1.2.840.10008.5.1.4.1.1.88.59"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


@dataclass
class ExpectedStack:
    """One stack ``scan`` must report, with its slices in the order it must give them."""

    series_uid: str
    description: str
    phase: str
    modality: str
    positions: list[tuple[float, float, float]]
    values: npt.NDArray[np.float64] | None
    transfer_syntaxes: tuple[str, ...]
    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    slice_spacing: float | None
    stack_label: str = ""
    warnings: tuple[str, ...] = ()
    study_uid: str = ""


@dataclass
class MessyStudy:
    """The folder written and what must come out of it."""

    folder: Path
    stacks: list[ExpectedStack] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Path relative to the folder -> a word the skip reason must contain."""


class _Namer:
    """Give every file a random UID-like name (no extension) in a random sub-folder."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.folders = ["", "DICOM", "DICOM/0A1F", "DICOM/0A1F/77B2", "export 2"]
        self.written: list[Path] = []

    def next(self) -> Path:
        folder = self.root / self.rng.choice(self.folders)
        folder.mkdir(parents=True, exist_ok=True)
        name = "1.3.12.2." + ".".join(
            str(self.rng.randrange(1, 10**6)) for _ in range(4)
        )
        self.written.append(folder / name)
        return folder / name


def _uid(counter: list[int]) -> str:
    counter[0] += 1
    return f"{ROOT}{counter[0]}"


IDENTITY = Identity(
    patient_name="Unseen^Patient",
    patient_id="MRN-0042",
    study_date="20250301",
    study_time="101000",
    study_id="4711",
    subject_id="S-017",
    timepoint_id="BASELINE",
)


def _base(
    sop_class: str, syntax: str, uids: list[int], study_uid: str, series_uid: str
) -> Dataset:
    ds = new_dataset(
        sop_class,
        syntax,
        study_uid=study_uid,
        series_uid=series_uid,
        sop_uid=_uid(uids),
        identity=IDENTITY,
        preamble=True,
    )
    ds.SeriesNumber = 99
    ds.InstanceNumber = 1
    return ds


@dataclass
class _Plan:
    description: str
    phase: str
    syntax: str
    n: int
    step: float
    z_top: float
    seconds: str
    number: int
    contrast: bool
    signed: bool = False
    slope: float = 1.0
    intercept: float = -1024.0
    vendor: str = "SIEMENS"
    preamble: bool = True


def _ct_series(
    plan: _Plan,
    study_uid: str,
    uids: list[int],
    namer: _Namer,
    rng: np.random.Generator,
) -> ExpectedStack:
    series_uid = _uid(uids)
    shape = (36, 40)  # rows != columns, so a swapped axis shows
    spacing = (0.68, 0.74)
    low, high = (-1024, 2000) if plan.signed else (0, 3000)
    positions = []
    values = []
    # written head first (z descending, as CT scanners do); scan must give z ascending
    for k in range(plan.n):
        z = plan.z_top - k * plan.step
        stored = rng.integers(low, high, size=shape)
        ds = _base(CTImageStorage, plan.syntax, uids, study_uid, series_uid)
        ds.Modality = "CT"
        ds.Manufacturer = plan.vendor
        ds.SeriesDescription = plan.description
        ds.SeriesNumber = plan.number
        ds.InstanceNumber = plan.n - k if k % 3 else k + 1  # deliberately useless
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        set_plane(ds, [-81.6, -120.3, z], AXIAL, spacing, plan.step)
        ds.RescaleSlope = plan.slope
        ds.RescaleIntercept = plan.intercept
        ds.AcquisitionTime = plan.seconds
        if plan.contrast:
            ds.ContrastBolusAgent = "IOMERON 400"
        set_pixels(ds, stored, signed=plan.signed)
        save(ds, namer.next(), preamble=plan.preamble)
        positions.append((-81.6, -120.3, z))
        values.append(stored * plan.slope + plan.intercept)
    order = sorted(range(plan.n), key=lambda i: positions[i][2])
    return ExpectedStack(
        series_uid=series_uid,
        description=plan.description,
        phase=plan.phase,
        modality="CT",
        positions=[positions[i] for i in order],
        values=np.stack([values[i] for i in order]),
        transfer_syntaxes=(plan.syntax,),
        rows=shape[0],
        columns=shape[1],
        pixel_spacing=spacing,
        slice_spacing=plan.step,
        study_uid=study_uid,
    )


CT_PLANS = (
    _Plan("Abdomen C- 5.0 B30f", "pre_contrast", ExplicitVRLittleEndian, 6, 5.0,
          40.0, "101502.120000", 2, False, vendor="SIEMENS"),
    _Plan("LIVER 3PH Late Arterial 2.5mm", "arterial", JPEG2000Lossless, 9, 2.5,
          31.25, "102014.5", 3, True, signed=True, slope=1.0, intercept=0.0,
          vendor="GE MEDICAL SYSTEMS"),
    _Plan("Portal Venous 70s iDose 3", "portal_venous", RLELossless, 7, 3.0, 36.0,
          "102049", 4, True, vendor="Philips"),
    _Plan("Delayed 3MIN 5.0", "delayed", DeflatedExplicitVRLittleEndian, 5, 5.0,
          38.0, "102314", 5, True, vendor="TOSHIBA"),
    _Plan("Body 2.0 CE", "portal_venous", ImplicitVRLittleEndian, 4, 2.0, 10.0,
          "102105", 6, True, slope=0.5, intercept=-1000.0, vendor="TOSHIBA",
          preamble=False),
)  # fmt: skip
"""Pre-contrast, three phases and a phase only timing can tell (Canon 'CE')."""


def _localizer(study_uid: str, uids: list[int], namer: _Namer) -> list[ExpectedStack]:
    series_uid = _uid(uids)
    stacks = []
    for orientation, label, position in (
        (CORONAL, "localizer coronal", (-250.0, 0.0, 200.0)),
        (SAGITTAL, "localizer sagittal", (0.0, -250.0, 200.0)),
    ):
        ds = _base(CTImageStorage, ExplicitVRLittleEndian, uids, study_uid, series_uid)
        ds.Modality = "CT"
        ds.SeriesDescription = "Topogram 0.6 T20f"
        ds.SeriesNumber = 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER", "CT_SOM5 TOP"]
        set_plane(ds, position, orientation)
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        set_pixels(ds, np.full((32, 16), 1100))
        save(ds, namer.next())
        stacks.append(
            ExpectedStack(
                series_uid,
                "Topogram 0.6 T20f",
                "unknown",
                "CT",
                [position],
                None,
                (ExplicitVRLittleEndian,),
                32,
                16,
                (1.0, 1.0),
                None,
                label,
                study_uid=study_uid,
            )
        )
    return stacks


def _bundled(name: str) -> str:
    """Return the path of one of pydicom's bundled test files."""
    path = get_testdata_file(name)
    if not isinstance(path, str):
        raise FileNotFoundError(f"pydicom's bundled test file {name} is missing")
    return path


def _jpeg_ls_mr(study_uid: str, uids: list[int], namer: _Namer) -> ExpectedStack:
    """Three JPEG-LS MR slices made from pydicom's bundled MR_small (pixels untouched)."""
    series_uid = _uid(uids)
    reference = pydicom.dcmread(_bundled("MR_small.dcm")).pixel_array
    positions = []
    for k, z in enumerate((12.0, 6.0, 9.0)):
        ds = pydicom.dcmread(_bundled("MR_small_jpeg_ls_lossless.dcm"))
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = _uid(uids)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesDescription = "t1_vibe_fs_tra_bh ART"
        ds.SeriesNumber = 10
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-83.9063, -91.2, z]
        ds.ImageOrientationPatient = list(AXIAL)
        ds.ClinicalTrialSubjectID = "S-017"
        ds.ClinicalTrialTimePointID = "BASELINE"
        ds.StudyDate = "20250301"
        ds.save_as(namer.next(), enforce_file_format=True)
        positions.append((-83.9063, -91.2, z))
    positions.sort(key=lambda p: p[2])
    ds = pydicom.dcmread(_bundled("MR_small.dcm"))
    return ExpectedStack(
        series_uid, "t1_vibe_fs_tra_bh ART", "arterial", "MR", positions,
        np.stack([reference.astype(np.float64)] * 3),
        ("1.2.840.10008.1.2.4.80",), 64, 64,
        (float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1])), 3.0,
        study_uid=study_uid,
    )  # fmt: skip


def _multi_echo_mr(study_uid: str, uids: list[int], namer: _Namer) -> ExpectedStack:
    """Two echoes at each of four positions in one series: a 4-D series."""
    series_uid = _uid(uids)
    positions = []
    for z in (0.0, 4.0, 8.0, 12.0):
        for echo in (2.2, 4.4):
            ds = _base(
                MRImageStorage, ExplicitVRLittleEndian, uids, study_uid, series_uid
            )
            ds.Modality = "MR"
            ds.SeriesDescription = "t1_fl2d_opp-in_tra"
            ds.SeriesNumber = 11
            ds.EchoTime = echo
            set_plane(ds, [-100.0, -100.0, z], AXIAL, (1.5, 1.5))
            set_pixels(ds, np.full((16, 16), 300))
            save(ds, namer.next())
            positions.append((-100.0, -100.0, z))
    return ExpectedStack(
        series_uid, "t1_fl2d_opp-in_tra", "unknown", "MR", positions, None,
        (ExplicitVRLittleEndian,), 16, 16, (1.5, 1.5), 4.0,
        warnings=("4-D series",), study_uid=study_uid,
    )  # fmt: skip


def _enhanced_mr(
    study_uid: str, uids: list[int], namer: _Namer, rng: np.random.Generator
) -> ExpectedStack:
    """One enhanced MR file, 5 frames stored in shuffled z order."""
    series_uid = _uid(uids)
    ds = _base(
        EnhancedMRImageStorage, ExplicitVRLittleEndian, uids, study_uid, series_uid
    )
    ds.Modality = "MR"
    ds.SeriesDescription = "LAVA Flex HBP 20MIN"
    ds.SeriesNumber = 12
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    z_values = (8.0, 0.0, 16.0, 4.0, 12.0)
    frames = rng.integers(0, 1000, size=(5, 12, 14))
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [1.25, 1.5]
    measures.SliceThickness = 4.0
    shared.PixelMeasuresSequence = DicomSequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = list(AXIAL)
    shared.PlaneOrientationSequence = DicomSequence([orientation])
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept = 2.0, -10.0
    transform.RescaleType = "US"
    shared.PixelValueTransformationSequence = DicomSequence([transform])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for z in z_values:
        item = Dataset()
        plane = Dataset()
        plane.ImagePositionPatient = [-90.0, -80.0, z]
        item.PlanePositionSequence = DicomSequence([plane])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.NumberOfFrames = 5
    set_pixels(ds, frames[0])
    ds.PixelData = frames.astype(np.uint16).tobytes()
    save(ds, namer.next())
    order = sorted(range(5), key=lambda i: z_values[i])
    return ExpectedStack(
        series_uid, "LAVA Flex HBP 20MIN", "delayed", "MR",
        [(-90.0, -80.0, z_values[i]) for i in order],
        np.stack([frames[i] * 2.0 - 10.0 for i in order]),
        (ExplicitVRLittleEndian,), 12, 14, (1.25, 1.5), 4.0, study_uid=study_uid,
    )  # fmt: skip


def _non_images(
    study_uid: str, uids: list[int], namer: _Namer, study: MessyStudy
) -> None:
    """Write a dose page, an SR, a presentation state and a key-object selection."""
    dose = _base(SECONDARY_CAPTURE, ExplicitVRLittleEndian, uids, study_uid, _uid(uids))
    dose.Modality = "CT"
    dose.SeriesDescription = "Dose Report"
    dose.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    set_pixels(dose, np.zeros((8, 8), dtype=np.int64))
    path = namer.next()
    save(dose, path)
    study.skipped[path.relative_to(study.folder).as_posix()] = "dose report"
    for sop_class, modality in (
        (BASIC_TEXT_SR, "SR"),
        (GRAYSCALE_PR, "PR"),
        (KEY_OBJECT, "KO"),
    ):
        ds = _base(sop_class, ExplicitVRLittleEndian, uids, study_uid, _uid(uids))
        ds.Modality = modality
        ds.SeriesDescription = f"{modality} object"
        path = namer.next()
        save(ds, path)
        study.skipped[path.relative_to(study.folder).as_posix()] = "not an image"


def _junk(folder: Path, study: MessyStudy, truncated_from: Path) -> None:
    (folder / "export 2").mkdir(exist_ok=True)
    junk = {
        "README.TXT": (b"Exported by PACS viewer 7.1\r\n", "not a DICOM file"),
        "export 2/preview.png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a DICOM file"),
        "empty": (b"", "empty file"),
        ".DS_Store": (b"\0\0\0\1Bud1" + b"\0" * 40, "not a DICOM file"),
        "DICOM/Thumbs.db": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200,
                            "not a DICOM file"),
    }  # fmt: skip
    for name, (content, reason) in junk.items():
        (folder / name).write_bytes(content)
        study.skipped[name] = reason
    data = truncated_from.read_bytes()
    (folder / "DICOM/0A1F/CUT").write_bytes(data[: len(data) - 300])
    study.skipped["DICOM/0A1F/CUT"] = "truncated"


def write_messy_study(folder: Path, seed: int = 20250301) -> MessyStudy:
    """Write the messy study under ``folder`` and return what ``scan`` must find.

    Parameters
    ----------
    folder
        An empty folder (created when missing).
    seed
        Seed of file names, folders and pixel values.

    Returns
    -------
    MessyStudy
        The expected stacks (in any order) and the expected skipped files.

    """
    folder.mkdir(parents=True, exist_ok=True)
    namer = _Namer(folder, random.Random(seed))
    rng = np.random.default_rng(seed)
    uids = [0]
    study = MessyStudy(folder)
    study_uid = _uid(uids)
    study.stacks.extend(_localizer(study_uid, uids, namer))
    for plan in CT_PLANS:
        study.stacks.append(_ct_series(plan, study_uid, uids, namer, rng))
    study.stacks.append(_jpeg_ls_mr(study_uid, uids, namer))
    study.stacks.append(_multi_echo_mr(study_uid, uids, namer))
    study.stacks.append(_enhanced_mr(study_uid, uids, namer, rng))
    _non_images(study_uid, uids, namer, study)
    follow_up = _uid(uids)
    plan = _Plan("PV 5mm", "portal_venous", ExplicitVRLittleEndian, 3, 5.0, 20.0,
                 "093000", 2, True)  # fmt: skip
    second = _ct_series(plan, follow_up, uids, namer, rng)
    study.stacks.append(second)
    _junk(folder, study, truncated_from=namer.written[3])  # a pre-contrast slice
    return study


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    """Zip every file under ``folder`` (optionally under a top folder ``prefix``)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def write_dicomdir(study: MessyStudy, target: Path) -> Path:
    """Copy the study's indexable DICOM files into a CD layout with a DICOMDIR.

    Junk, the file without file meta and the non-image objects pydicom's default
    records cannot describe (no SR flags, no presentation dates) are left out.
    """
    files = sorted(study.folder.rglob("*"))
    return kit_dicomdir(files, target, skip_unindexable=True)
