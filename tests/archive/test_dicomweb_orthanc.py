"""DICOMweb against a real Orthanc: QIDO-RS, WADO-RS as stored, and every failure."""

import socket
from datetime import date
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.errors import (
    ArchiveNotFound,
    ArchiveTimeout,
    ArchiveUnreachable,
    AuthenticationFailed,
)
from mrecist_reader.archive.nodes import DicomwebNode
from mrecist_reader.archive.pull import pull
from mrecist_reader.archive.records import StudyQuery
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.imaging.scan import scan
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import SampleSeries, pulled_files, sample_series

pytestmark = pytest.mark.orthanc


def archive(url: str, **options: object) -> DicomwebArchive:
    fields: dict[str, object] = {
        "username": o.USER,
        "password": o.PASSWORD,
        "attempts": 1,
    }
    fields.update(options)
    return DicomwebArchive(DicomwebNode(url, **fields))  # type: ignore[arg-type]


def test_qido_answers_with_the_right_credentials(orthanc: Orthanc) -> None:
    client = archive(orthanc.dicomweb_url)
    assert "QIDO-RS answered" in orthanc.in_namespace(client.check)


def test_studies_are_found_by_trial_subject_and_modality(orthanc: Orthanc) -> None:
    client = archive(orthanc.dicomweb_url)
    studies = orthanc.in_namespace(
        lambda: client.find_studies(StudyQuery("S02", None, "MR"))
    )
    assert [(s.study_uid, s.subject_id) for s in studies] == [
        (sample_series("S02/BASELINE/MR_ART").study_uid, "S02")
    ]


def test_wado_rs_brings_every_image_as_stored(orthanc: Orthanc, out_dir: Path) -> None:
    first, second = sample_series("S02/FU2/ART"), sample_series("S02/FU2/PV")
    client = archive(orthanc.dicomweb_url)
    query = StudyQuery(study_uid=first.study_uid)
    report = orthanc.in_namespace(lambda: pull(client, query, LocalStore(out_dir)))
    assert report.is_complete
    assert report.announced == len(first.files) + len(second.files)
    pulled = pulled_files(out_dir, first)
    assert set(pulled) == set(first.files)
    uid = sorted(pulled)[0]
    received, original = pydicom.dcmread(pulled[uid]), pydicom.dcmread(first.files[uid])
    assert received.file_meta.TransferSyntaxUID == first.transfer_syntax
    assert received.PixelData == original.PixelData


def test_wado_rs_resumes_with_the_missing_images_only(
    orthanc: Orthanc, out_dir: Path
) -> None:
    series = sample_series("S02/BASELINE/MR_ART")
    client = archive(orthanc.dicomweb_url)
    query = StudyQuery(study_uid=series.study_uid)
    orthanc.in_namespace(lambda: pull(client, query, LocalStore(out_dir)))
    for path in sorted(pulled_files(out_dir, series).values())[-3:]:
        path.unlink()
    report = orthanc.in_namespace(lambda: pull(client, query, LocalStore(out_dir)))
    (outcome,) = report.series
    assert (outcome.arrived, outcome.already_here, outcome.missing) == (
        3,
        len(series.files) - 3,
        (),
    )


def test_wrong_password_is_http_401(orthanc: Orthanc) -> None:
    client = archive(orthanc.dicomweb_url, password="wrong")
    with pytest.raises(
        AuthenticationFailed, match="HTTP 401, the archive refused the user"
    ):
        orthanc.in_namespace(client.check)


def test_no_credentials_says_authentication_is_needed(orthanc: Orthanc) -> None:
    client = archive(orthanc.dicomweb_url, username=None, password=None)
    with pytest.raises(AuthenticationFailed, match="needs authentication"):
        orthanc.in_namespace(client.check)


def test_wrong_base_url_is_http_404(orthanc: Orthanc) -> None:
    client = archive(f"http://127.0.0.1:{o.HTTP_PORT}/not-dicom-web")
    with pytest.raises(ArchiveNotFound, match="HTTP 404"):
        orthanc.in_namespace(client.check)


def test_closed_port_is_connection_refused() -> None:
    client = archive(f"http://127.0.0.1:{o.free_port()}/dicom-web")
    with pytest.raises(ArchiveUnreachable, match="Connection refused"):
        client.check()


def test_a_server_that_never_answers_is_a_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"
        client = archive(url, read_timeout_s=0.5)
        with pytest.raises(ArchiveTimeout, match="no answer within the time allowed"):
            client.check()


class LosesAFileBeforeRetrieval(DicomwebArchive):
    """An archive whose stored file disappears between the search and the retrieval.

    (Removed before the search, Orthanc's QIDO-RS itself fails with HTTP 500, as it reads
    the files to answer.)
    """

    def __init__(self, orthanc: Orthanc, lost_uid: str) -> None:
        super().__init__(archive(orthanc.dicomweb_url).node)
        self.orthanc, self.lost_uid = orthanc, lost_uid

    def retrieve(self, wanted, store, *, method="auto"):  # type: ignore[no-untyped-def]
        with self.orthanc.stored_file_lost(self.lost_uid):
            super().retrieve(wanted, store, method=method)


def by_instance_number(series: SampleSeries) -> list[str]:
    """Return the series' SOP Instance UIDs in Orthanc's streaming order."""
    return sorted(
        series.files,
        key=lambda uid: int(
            pydicom.dcmread(series.files[uid], stop_before_pixels=True).InstanceNumber
        ),
    )


def test_a_stream_cut_short_is_reported_image_by_image(
    orthanc: Orthanc, out_dir: Path
) -> None:
    # WADO-RS ends its multipart stream early at a missing file and dicomweb-client
    # returns what came before without an error: only the announcement tells.
    series = sample_series("S03/FU2/ART")
    lost_uid = by_instance_number(series)[-1]
    client = LosesAFileBeforeRetrieval(orthanc, lost_uid)
    report = orthanc.in_namespace(
        lambda: pull(
            client, StudyQuery(study_uid=series.study_uid), LocalStore(out_dir)
        )
    )
    assert (report.series[0].missing, report.series[0].error) == ((lost_uid,), "")


def test_a_series_the_archive_cannot_send_is_reported_and_the_pull_goes_on(
    orthanc: Orthanc, out_dir: Path
) -> None:
    series = sample_series("S03/FU1/ART")
    client = LosesAFileBeforeRetrieval(orthanc, by_instance_number(series)[0])
    report = orthanc.in_namespace(
        lambda: pull(
            client, StudyQuery(study_uid=series.study_uid), LocalStore(out_dir)
        )
    )
    (outcome,) = report.series
    assert "HTTP 500" in outcome.error
    assert set(outcome.missing) == set(series.files)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ((date(2025, 5, 1), date(2025, 5, 31)), ["FU1"]),
        ((date(2025, 5, 7), None), ["FU1", "FU2"]),
        ((None, date(2025, 4, 7)), ["BASELINE"]),
    ],
)
def test_a_local_read_narrows_studies_by_date_range(
    orthanc: Orthanc, dates: tuple[date | None, date | None], expected: list[str]
) -> None:
    client = archive(orthanc.dicomweb_url)
    query = StudyQuery("S01", dates=dates)
    studies = orthanc.in_namespace(lambda: client.find_studies(query))
    wanted = {sample_series(f"S01/{tp}/ART").study_uid for tp in expected}
    assert {study.study_uid for study in studies} == wanted


def test_what_arrived_opens_as_a_folder_does(orthanc: Orthanc, out_dir: Path) -> None:
    series = sample_series("S01/BASELINE/ART")
    client = archive(orthanc.dicomweb_url)
    query = StudyQuery(study_uid=series.study_uid, modality="CT")
    orthanc.in_namespace(lambda: pull(client, query, LocalStore(out_dir)))
    result = scan(out_dir, workers=1, use_index=False)
    found = {info.series_instance_uid: info for info in result.series}
    assert set(found[series.series_uid].sop_instance_uids) == set(series.files)
    assert result.skipped == ()
