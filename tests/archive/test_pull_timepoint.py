"""`mrecist-reader pull --timepoint`: one timepoint of a subject, over both protocols."""

from pathlib import Path

import pytest

from mrecist_reader.cli import main
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import pulled_files, sample_series


@pytest.mark.parametrize("protocol", ["dicomweb", "dimse"])
def test_pull_one_timepoint_of_a_subject(
    orthanc: Orthanc,
    out_dir: Path,
    protocol: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MRECIST_READER_ARCHIVE_PASSWORD", o.PASSWORD)
    where = (
        ["--dicomweb", orthanc.dicomweb_url, "--user", o.USER]
        if protocol == "dicomweb"
        else ["--dimse", f"{o.ARCHIVE_AET}@127.0.0.1:{o.DICOM_PORT}"]
    )
    args = [
        "pull",
        *where,
        "--subject",
        "S01",
        "--timepoint",
        "FU1",
        "-o",
        str(out_dir),
    ]
    if protocol == "dimse":
        args += ["--our-aet", o.OUR_AET]
    assert orthanc.in_namespace(lambda: main(args)) == 0
    assert capsys.readouterr().out.count("study ") == 1
    follow_up = sample_series("S01/FU1/ART")
    assert set(pulled_files(out_dir, follow_up)) == set(follow_up.files)
    assert not pulled_files(out_dir, sample_series("S01/BASELINE/ART"))
