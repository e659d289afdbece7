"""The series shown while a folder is still being scanned (issue 20 item 4, no Qt)."""

from pathlib import Path

from mrecist_reader.desk.first_image import first_series, grown_worklist, show_early
from mrecist_reader.imaging.scan import ScanProgress, scan
from tests.kit.dicom import SeriesSpec, write_series

STUDY = "1.2.826.0.1.3680043.8.498.7"


def _progress(root: Path) -> list[ScanProgress]:
    seen: list[ScanProgress] = []
    scan(root, use_index=False, on_progress=seen.append)
    return seen


def test_nothing_is_shown_before_a_series_is_complete(tmp_path: Path) -> None:
    assert show_early((), shown=False, files_left=10, min_files_left=0) is None


def test_the_first_complete_series_is_shown_then_an_arterial_one_found_later_is_chosen(
    tmp_path: Path,
) -> None:
    portal = SeriesSpec(n_slices=4, description="LIVER PORTAL", study_uid=STUDY)
    arterial = SeriesSpec(n_slices=4, description="LIVER ARTERIAL", study_uid=STUDY)
    write_series(tmp_path / "a_portal", portal)
    write_series(tmp_path / "b_arterial", arterial)
    write_series(tmp_path / "c_delayed", SeriesSpec(n_slices=4, study_uid=STUDY))
    first, second = _progress(tmp_path)
    early = show_early(
        first.complete_series, shown=False, files_left=9, min_files_left=0
    )
    assert early is not None
    chosen = first_series(early)
    assert chosen is not None
    assert chosen.series_instance_uid == portal.series_uid
    later = show_early(
        second.complete_series, shown=False, files_left=4, min_files_left=0
    )
    assert later is not None
    chosen = first_series(later)
    assert chosen is not None
    assert chosen.series_instance_uid == arterial.series_uid
    # once shown, later series wait for the end of the scan
    assert (
        show_early(second.complete_series, shown=True, files_left=4, min_files_left=0)
        is None
    )


def test_nothing_is_shown_early_when_few_files_are_left(tmp_path: Path) -> None:
    write_series(tmp_path / "a", SeriesSpec(n_slices=4, study_uid=STUDY))
    write_series(tmp_path / "b", SeriesSpec(n_slices=4, study_uid=STUDY))
    (step,) = _progress(tmp_path)
    complete = step.complete_series
    assert show_early(complete, shown=False, files_left=4, min_files_left=5) is None
    assert show_early(complete, shown=False, files_left=5, min_files_left=5)


def test_once_shown_the_worklist_grows_with_each_series_completed(
    tmp_path: Path,
) -> None:
    for name in ("a", "b", "c"):
        write_series(tmp_path / name, SeriesSpec(n_slices=4, study_uid=STUDY))
    first, second = _progress(tmp_path)
    shown = len(first.complete_series)
    assert shown == 1
    assert grown_worklist(first.complete_series, shown=shown) is None  # nothing new
    grown = grown_worklist(second.complete_series, shown=shown)
    assert grown is not None
    (subject,) = grown
    assert sum(len(t.series) for t in subject.timepoints) == 2
