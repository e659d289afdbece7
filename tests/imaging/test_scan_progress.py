"""A scan tells what it found so far, folder by folder (issue 20 item 4)."""

from pathlib import Path

from mrecist_reader.imaging.scan import ScanProgress, scan
from tests.kit.dicom import SeriesSpec, write_series


def _study(root: Path) -> dict[str, SeriesSpec]:
    study = "1.2.826.0.1.3680043.8.498.1"
    specs = {
        "a_arterial": SeriesSpec(
            n_slices=6, description="LIVER ARTERIAL", study_uid=study
        ),
        "b_portal": SeriesSpec(n_slices=5, description="LIVER PORTAL", study_uid=study),
        "c_delayed": SeriesSpec(
            n_slices=4, description="LIVER DELAYED", study_uid=study
        ),
    }
    for name, spec in specs.items():
        write_series(root / name, spec)
    return specs


def test_each_folder_read_reports_its_series_complete_and_the_result_is_unchanged(
    tmp_path: Path,
) -> None:
    specs = _study(tmp_path / "study")
    seen: list[ScanProgress] = []
    result = scan(tmp_path / "study", use_index=False, on_progress=seen.append)
    plain = scan(tmp_path / "study", use_index=False)
    assert result.series == plain.series
    assert [p.files_seen for p in seen] == [6, 11]  # none for the last folder
    assert all(p.files_total == 15 for p in seen)
    first = seen[0]
    assert [s.series_instance_uid for s in first.complete_series] == [
        specs["a_arterial"].series_uid
    ]
    assert [s.n_images for s in first.complete_series] == [6]
    assert {s.series_instance_uid for s in seen[1].complete_series} == {
        specs["a_arterial"].series_uid,
        specs["b_portal"].series_uid,
    }


def test_a_series_shares_its_folder_and_is_complete_only_with_that_folder(
    tmp_path: Path,
) -> None:
    """A folder is read to its end before its series count as complete.

    A series whose other files lie in a folder not started yet cannot be told apart
    (the window opens such a series again when the final result differs).
    """
    root = tmp_path / "study"
    arterial = SeriesSpec(n_slices=3, description="LIVER ARTERIAL")
    write_series(root / "a_first", arterial)
    portal = SeriesSpec(n_slices=4, description="LIVER PORTAL")
    write_series(root / "b_mixed", portal)
    late = SeriesSpec(n_slices=3, description="LIVER DELAYED")
    split = write_series(root / "c_last", late)
    split[0].rename(root / "a_first" / "LATE0.dcm")
    split[1].rename(root / "b_mixed" / "LATE1.dcm")
    seen: list[ScanProgress] = []
    result = scan(root, use_index=False, on_progress=seen.append)
    first, second = seen
    assert first.files_seen == 4  # a_first: 3 arterial + 1 delayed
    assert portal.series_uid not in {s.series_instance_uid for s in first.series}
    assert {s.series_instance_uid for s in second.complete_series} == {
        arterial.series_uid,
        portal.series_uid,
        late.series_uid,
    }
    shown = {s.series_instance_uid: s.n_images for s in second.series}
    final = {s.series_instance_uid: s.n_images for s in result.series}
    assert shown[late.series_uid] == 2
    assert final[late.series_uid] == 3


def test_a_folder_scanned_again_reports_from_its_index(tmp_path: Path) -> None:
    _study(tmp_path / "study")
    scan(tmp_path / "study", index_dir=tmp_path / "index")
    seen: list[ScanProgress] = []
    again = scan(
        tmp_path / "study", index_dir=tmp_path / "index", on_progress=seen.append
    )
    assert again.files_reused == 15
    assert [p.files_seen for p in seen] == [6, 11]
