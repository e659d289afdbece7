"""Open from archive, without Qt: search, pull into the cache, open as a folder."""

from datetime import date
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.records import StudyQuery
from mrecist_reader.desk.archive_browser import ArchiveBrowser, study_dates
from mrecist_reader.imaging.scan import scan
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.conftest import SAMPLE_DICOM


def browser(orthanc: Orthanc, cache: Path, *, blinded: bool) -> ArchiveBrowser:
    node = DicomwebNode(
        orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
    )
    return ArchiveBrowser(DicomwebArchive(node), cache, blinded=blinded)


def sample_studies(subject: str) -> set[str]:
    return {
        str(pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID)
        for p in (SAMPLE_DICOM / subject).rglob("*.dcm")
    }


def test_a_subjects_studies_are_found_pulled_and_open_as_a_folder(
    orthanc: Orthanc, tmp_path: Path
) -> None:
    model = browser(orthanc, tmp_path / "cache", blinded=False)
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert model.columns[:3] == ("Subject", "Timepoint", "Study date")
    assert [row[1] for row in rows] == ["BASELINE", "FU1", "FU2"]
    assert [
        row[0]
        for row in orthanc.in_namespace(lambda: model.search("S01", timepoint="FU2"))
    ] == ["S01"]
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert {row[0] for row in rows} == {"S01"}
    assert {row[-1] for row in rows} == sample_studies("S01") - {""}
    images: list[Path] = []
    pulled = orthanc.in_namespace(
        lambda: model.retrieve(range(len(rows)), on_image=images.append)
    )
    assert pulled.folder == tmp_path / "cache" / "S01"
    assert pulled.report.is_complete
    assert len(images) == pulled.report.announced
    found = scan(pulled.folder, use_index=False)
    assert {s.subject_id for s in found.series} == {"S01"}
    assert sum(len(s.files) for s in found.series) == pulled.report.announced
    again = orthanc.in_namespace(lambda: model.retrieve(range(len(rows))))
    assert sum(o.arrived for o in again.report.series) == 0  # resumed: all here
    assert f"{again.report.announced} of {again.report.announced}" in again.summary()


def test_a_blinded_reads_results_show_no_dates(
    orthanc: Orthanc, tmp_path: Path
) -> None:
    model = browser(orthanc, tmp_path, blinded=True)
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert "Study date" not in model.columns
    header = pydicom.dcmread(next((SAMPLE_DICOM / "S01").rglob("*.dcm")))
    for row in rows:
        assert len(row) == len(model.columns)
        for value in (header.StudyDate, header.PatientName, header.PatientID):
            assert str(value) not in " ".join(row)


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_studies_are_found_by_timepoint_and_show_it(
    orthanc: Orthanc, protocol: str
) -> None:
    client = (
        DicomwebArchive(
            DicomwebNode(
                orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
            )
        )
        if protocol == "dicomweb"
        else DimseArchive(
            DimseNode(o.ARCHIVE_AET, "127.0.0.1", o.DICOM_PORT, our_ae_title=o.OUR_AET)
        )
    )
    found = orthanc.in_namespace(
        lambda: client.find_studies(StudyQuery(subject_id="S01", timepoint="FU1"))
    )
    assert [study.timepoint for study in found] == ["FU1"]
    everything = orthanc.in_namespace(
        lambda: client.find_studies(StudyQuery(subject_id="S01"))
    )
    assert sorted({s.timepoint for s in everything}) == ["BASELINE", "FU1", "FU2"]


def test_a_local_read_searches_by_study_date_range(
    orthanc: Orthanc, tmp_path: Path
) -> None:
    model = browser(orthanc, tmp_path, blinded=False)
    rows = orthanc.in_namespace(
        lambda: model.search(dates=study_dates("2025-05-01", "2025-05-31"))
    )
    assert sorted((row[0], row[1]) for row in rows) == [
        ("S01", "FU1"),
        ("S02", "FU1"),
        ("S03", "BASELINE"),
    ]
    assert all(row[2].startswith("2025-05-") for row in rows)
    since = orthanc.in_namespace(
        lambda: model.search("S03", dates=study_dates("2025-06-01", ""))
    )
    assert [row[1] for row in since] == ["FU1", "FU2"]


def test_a_blinded_read_cannot_search_by_date(tmp_path: Path) -> None:
    model = ArchiveBrowser(
        DicomwebArchive(DicomwebNode("http://127.0.0.1:9/dicom-web", attempts=1)),
        tmp_path,
        blinded=True,
    )
    with pytest.raises(ValueError, match="blinded read cannot search by study date"):
        model.search("S01", dates=study_dates("2025-05-01", ""))


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2025-13-01", "", "study date from: '2025-13-01' is not a date"),
        ("", "May 5", "study date to: 'May 5' is not a date"),
        ("2025-06-01", "2025-05-01", "is before study date from"),
    ],
)
def test_a_bad_date_range_is_named(first: str, last: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        study_dates(first, last)


def test_empty_dates_mean_any_date() -> None:
    assert study_dates(" ", "") is None
    assert study_dates("2025-05-01", "") == (date(2025, 5, 1), None)
