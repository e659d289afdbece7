"""Read an SR back from the archive: find a subject's SRs, fetch one, show it read only."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.pull import Archive
from mrecist_reader.archive.sr import measurement_report
from mrecist_reader.desk.archive_reports import ArchiveReports
from mrecist_reader.desk.sr_view import open_report
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.test_sr import IMAGES, sample_read

pytestmark = pytest.mark.orthanc


def dicomweb() -> DicomwebArchive:
    return DicomwebArchive(
        DicomwebNode(
            "http://127.0.0.1:" + str(o.HTTP_PORT) + "/dicom-web",
            username=o.USER,
            password=o.PASSWORD,
            attempts=1,
        )
    )


def dimse() -> DimseArchive:
    return DimseArchive(
        DimseNode(o.ARCHIVE_AET, "127.0.0.1", o.DICOM_PORT, our_ae_title=o.OUR_AET)
    )


@pytest.fixture
def stored_report(orthanc: Orthanc, tmp_path: Path) -> Iterator[tuple[Dataset, Path]]:
    """Send the baseline SR of the sample read to Orthanc; remove it afterwards."""
    report = measurement_report(sample_read(), 0, IMAGES)
    local = tmp_path / "local_sr.dcm"
    report.save_as(local, enforce_file_format=True)
    orthanc.in_namespace(lambda: dicomweb().store(report))
    yield report, local
    found = orthanc.rest("POST", "/tools/lookup", str(report.SOPInstanceUID).encode())
    assert isinstance(found, list)
    for item in found:
        orthanc.rest("DELETE", f"/instances/{item['ID']}")


@pytest.mark.parametrize("client", [dicomweb, dimse], ids=["dicomweb", "dimse"])
def test_a_subjects_sr_is_found_fetched_and_shown_as_the_file(
    orthanc: Orthanc,
    stored_report: tuple[Dataset, Path],
    tmp_path: Path,
    client: Callable[[], Archive],
) -> None:
    report, local = stored_report
    model = ArchiveReports(client(), tmp_path / "cache", blinded=False)
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert [row[-1] for row in rows] == [str(report.SOPInstanceUID)]
    assert rows[0][:3] == ("S01", "BASELINE", "2025-04-07")
    arrived: list[Path] = []
    fetched = orthanc.in_namespace(lambda: model.fetch(0, on_file=arrived.append))
    assert len(arrived) == 1
    expected = open_report(local)
    assert fetched.view.rows == expected.rows
    assert fetched.view.responses == expected.responses
    assert [lesion.caliper_px for lesion in fetched.view.lesions] == [
        lesion.caliper_px for lesion in expected.lesions
    ]
    again = orthanc.in_namespace(lambda: model.fetch(0, on_file=arrived.append))
    assert len(arrived) == 1  # already here: not fetched again
    assert again.view.rows == expected.rows


def test_a_blinded_reads_rows_show_no_date_and_a_subject_without_sr_none(
    orthanc: Orthanc, stored_report: tuple[Dataset, Path], tmp_path: Path
) -> None:
    model = ArchiveReports(dicomweb(), tmp_path, blinded=True)
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert "Study date" not in model.columns
    assert len(rows) == 1
    assert "2025" not in " ".join(rows[0][:-1])
    assert orthanc.in_namespace(lambda: model.search("S02")) == ()


def test_a_search_names_a_subject_or_a_study(tmp_path: Path) -> None:
    model = ArchiveReports(dicomweb(), tmp_path, blinded=True)
    with pytest.raises(ValueError, match="trial subject ID or a study UID"):
        model.search(" ", "")
