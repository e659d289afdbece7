"""``mrecist-reader pull`` against a real Orthanc: output, exit status, resumption."""

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import UID, generate_uid

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.cli import main
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import sample_series
from tests.kit.dicom import rewrite

pytestmark = pytest.mark.orthanc

DIMSE = f"{o.ARCHIVE_AET}@127.0.0.1:{o.DICOM_PORT}"


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRECIST_READER_ARCHIVE_PASSWORD", o.PASSWORD)


def dicomweb_args(orthanc: Orthanc) -> list[str]:
    return ["pull", "--dicomweb", orthanc.dicomweb_url, "--user", o.USER]


@pytest.mark.usefixtures("password")
def test_pull_by_subject_prints_each_series_and_exits_0(
    orthanc: Orthanc, out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*dicomweb_args(orthanc), "--subject", "S01", "--modality", "CT"]
    assert orthanc.in_namespace(lambda: main([*args, "-o", str(out_dir)])) == 0
    out = capsys.readouterr().out
    assert out.count("study ") == 3
    assert out.count("  series ") == out.count(", complete") == 4
    assert out.rstrip().endswith(f"100 of 100 images in {out_dir}")
    assert "SAMPLE^" not in out  # no patient name, ever


@pytest.mark.usefixtures("password")
def test_a_second_pull_retrieves_nothing_again(
    orthanc: Orthanc, out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = sample_series("S02/FU1/ART")
    args = ["pull", "--dimse", DIMSE, "--our-aet", o.OUR_AET]
    args += ["--study", series.study_uid, "-o", str(out_dir)]
    assert orthanc.in_namespace(lambda: main(args)) == 0
    capsys.readouterr()
    assert orthanc.in_namespace(lambda: main(args)) == 0
    assert "0 retrieved, 25 already here, complete" in capsys.readouterr().out


@pytest.mark.usefixtures("password")
def test_an_image_that_did_not_arrive_is_named_and_exits_1(
    orthanc: Orthanc,
    out_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    series = sample_series("S01/BASELINE/PV")
    lost = max(series.files, key=lambda uid: series.files[uid].name)  # last IM number
    retrieve = DicomwebArchive.retrieve

    def losing(self: DicomwebArchive, *args: object, **kwargs: object) -> None:
        with orthanc.stored_file_lost(lost):
            retrieve(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DicomwebArchive, "retrieve", losing)
    args = [*dicomweb_args(orthanc), "--study", series.study_uid, "--modality", "CT"]
    args += ["-o", str(out_dir)]
    assert orthanc.in_namespace(lambda: main(args)) == 1
    captured = capsys.readouterr()
    assert f"image {lost} did not arrive" in captured.err
    assert "49 of 50 images" in captured.out


def test_wrong_password_exits_2_saying_so(
    orthanc: Orthanc,
    out_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MRECIST_READER_ARCHIVE_PASSWORD", "not-it")
    args = [*dicomweb_args(orthanc), "--subject", "S01", "-o", str(out_dir)]
    assert orthanc.in_namespace(lambda: main(args)) == 2
    assert "HTTP 401, the archive refused the user name and password" in (
        capsys.readouterr().err
    )


def test_user_without_password_variable_is_a_usage_error(
    out_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MRECIST_READER_ARCHIVE_PASSWORD", raising=False)
    args = ["pull", "--dicomweb", "https://pacs.example/dicom-web", "--user", "reader"]
    assert main([*args, "--subject", "S01", "-o", str(out_dir)]) == 2
    assert "$MRECIST_READER_ARCHIVE_PASSWORD" in capsys.readouterr().err


def test_closed_dimse_port_exits_2_with_connection_refused(
    out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["pull", "--dimse", f"PACS@127.0.0.1:{o.free_port()}", "--subject", "S01"]
    assert main([*args, "-o", str(out_dir)]) == 2
    assert "connection refused" in capsys.readouterr().err


def test_no_matching_study_exits_1(
    orthanc: Orthanc, out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["pull", "--dimse", DIMSE, "--our-aet", o.OUR_AET, "--subject", "NOBODY"]
    assert orthanc.in_namespace(lambda: main([*args, "-o", str(out_dir)])) == 1
    assert "no study matches" in capsys.readouterr().err


def test_pull_without_subject_or_study_is_a_usage_error(
    out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pull", "--dimse", DIMSE, "-o", str(out_dir)]) == 2
    assert "give --subject, --study or both" in capsys.readouterr().err


@pytest.mark.usefixtures("password")
def test_images_whose_file_meta_names_another_uid_all_arrive_under_their_own(
    orthanc: Orthanc, out_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the real GE CT in ../shared: pseudonymised without its file meta.

    Every file's meta still carries one stale MediaStorageSOPInstanceUID; the archive
    announces the datasets' own UIDs, and each image must arrive as itself (named by
    the first, they were counted missing and overwrote one another).
    """
    study_uid, series_uid = generate_uid(), generate_uid()
    files = []
    for source in sample_series("S02/FU1/ART").files.values():
        copy = tmp_path / "stale" / source.name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, copy)
        files.append(copy)

    def pseudonymised_without_meta(dataset: Dataset) -> None:
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study_uid, series_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.ClinicalTrialSubjectID = "S90"
        dataset.file_meta.MediaStorageSOPInstanceUID = UID(
            "1.2.840.113619.2.327.3.44.190"
        )

    rewrite(files, pseudonymised_without_meta)
    orthanc.upload(files)
    args = [*dicomweb_args(orthanc), "--study", study_uid, "-o", str(out_dir)]
    assert orthanc.in_namespace(lambda: main(args)) == 0
    assert f"{len(files)} of {len(files)} images" in capsys.readouterr().out
    arrived = sorted((out_dir / study_uid / series_uid).glob("*.dcm"))
    assert len(arrived) == len(files)
    for path in arrived:
        assert (
            path.stem == pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        )
