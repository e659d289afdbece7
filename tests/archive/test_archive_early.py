"""The first series of a retrieval opens as soon as it has arrived, before the rest."""

from pathlib import Path

import pytest

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.nodes import DicomwebNode
from mrecist_reader.desk.archive_browser import ArchiveBrowser
from mrecist_reader.desk.archive_early import first_to_open
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Phase, SeriesInfo
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.conftest import SAMPLE_DICOM


@pytest.fixture(scope="module")
def s01() -> dict[str, SeriesInfo]:
    """S01's series by folder: BASELINE/ART, BASELINE/PV, FU1/ART, FU2/ART."""
    return {
        f"{s.files[0].parent.parent.name}/{s.files[0].parent.name}": s
        for s in scan(SAMPLE_DICOM / "S01", use_index=False).series
    }


def test_an_arterial_series_of_the_first_study_opens_at_once(
    s01: dict[str, SeriesInfo],
) -> None:
    arterial = s01["BASELINE/ART"]
    assert arterial.phase is Phase.ARTERIAL
    study = arterial.study_instance_uid
    chosen = first_to_open([arterial], first_study=study, first_study_done=False)
    assert chosen == arterial
    both = [s01["BASELINE/PV"], arterial]
    assert first_to_open(both, first_study=study, first_study_done=False) == arterial


def test_a_portal_series_waits_for_the_rest_of_its_study(
    s01: dict[str, SeriesInfo],
) -> None:
    portal = s01["BASELINE/PV"]
    study = portal.study_instance_uid
    assert first_to_open([portal], first_study=study, first_study_done=False) is None
    assert first_to_open([portal], first_study=study, first_study_done=True) == portal


def test_a_later_timepoint_never_opens_before_the_first_study(
    s01: dict[str, SeriesInfo],
) -> None:
    baseline = s01["BASELINE/ART"].study_instance_uid
    follow_up = [s01["FU1/ART"]]
    assert first_to_open(follow_up, first_study=baseline, first_study_done=True) is None
    assert first_to_open([], first_study=baseline, first_study_done=True) is None


@pytest.mark.orthanc
def test_the_baseline_opens_while_the_follow_ups_are_still_arriving(
    orthanc: Orthanc, tmp_path: Path
) -> None:
    node = DicomwebNode(
        orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
    )
    model = ArchiveBrowser(DicomwebArchive(node), tmp_path, blinded=False)
    rows = orthanc.in_namespace(lambda: model.search("S01"))
    assert [row[1] for row in rows] == ["BASELINE", "FU1", "FU2"]
    arrived: list[Path] = []
    opened: list[tuple[Path, int]] = []
    pulled = orthanc.in_namespace(
        lambda: model.retrieve(
            range(len(rows)),
            on_image=arrived.append,
            on_first_series=lambda folder: opened.append((folder, len(arrived))),
        )
    )
    assert pulled.report.is_complete
    ((folder, when),) = opened
    (series,) = scan(folder, use_index=False).series
    assert series.phase is Phase.ARTERIAL
    assert series.timepoint_label == "BASELINE"
    assert len(series.files) == 25
    assert when < pulled.report.announced  # shown before the rest had arrived


def test_nothing_opens_early_at_the_very_end(orthanc: Orthanc, tmp_path: Path) -> None:
    node = DicomwebNode(
        orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
    )
    model = ArchiveBrowser(DicomwebArchive(node), tmp_path, blinded=False)
    rows = orthanc.in_namespace(lambda: model.search("S01", timepoint="FU2"))
    opened: list[Path] = []
    pulled = orthanc.in_namespace(
        lambda: model.retrieve(range(len(rows)), on_first_series=opened.append)
    )
    assert pulled.report.announced == 25
    assert opened == []  # one series only: the whole folder opens at once
