"""What sample_dicom/ holds, read from its files (the reference of the archive tests)."""

from dataclasses import dataclass
from pathlib import Path

import pydicom

from tests.conftest import SAMPLE_DICOM


@dataclass(frozen=True)
class SampleSeries:
    study_uid: str
    series_uid: str
    files: dict[str, Path]  # SOP Instance UID -> file
    transfer_syntax: str


def sample_series(relative: str) -> SampleSeries:
    """Return the UIDs and files of one sample series, e.g. ``S02/FU1/ART``."""
    files: dict[str, Path] = {}
    study = series = syntax = ""
    for path in sorted((SAMPLE_DICOM / relative).glob("*.dcm")):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        if not header.get("SOPInstanceUID"):
            continue  # Orthanc refuses files without UIDs (HTTP 400)
        study, series = header.StudyInstanceUID, header.SeriesInstanceUID
        syntax = header.file_meta.TransferSyntaxUID
        files[header.SOPInstanceUID] = path
    return SampleSeries(study, series, files, syntax)


def pulled_files(root: Path, series: SampleSeries) -> dict[str, Path]:
    """Return the files a pull wrote for ``series``, by SOP Instance UID."""
    folder = root / series.study_uid / series.series_uid
    return {path.stem: path for path in folder.glob("*.dcm")}
