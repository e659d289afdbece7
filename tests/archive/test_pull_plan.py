"""pull() without a server: duplicates in the archive's answers, cancellation, progress."""

from pathlib import Path

import pytest

from mrecist_reader.archive.pull import PullCancelled, pull
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.store import LocalStore

STUDY, SERIES = "1.2.3", "1.2.3.4"


class RepeatingArchive:
    """An archive that lists its one study, series and image twice (as Orthanc can)."""

    def __init__(self) -> None:
        self.retrievals = 0

    def check(self) -> str:
        return "ok"

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        return [StudyRecord(STUDY, "S01"), StudyRecord(STUDY, "S01")]

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        return [SeriesRecord(study_uid, SERIES, "CT")] * 2

    def find_instances(self, series: SeriesRecord) -> list[InstanceRecord]:
        return [InstanceRecord(STUDY, SERIES, "1.2.3.4.5")] * 2

    def retrieve(
        self, wanted: list[InstanceRecord], store: LocalStore, *, method: str = "auto"
    ) -> None:
        self.retrievals += 1
        for image in wanted:
            store.write(image.study_uid, image.series_uid, image.sop_uid, b"DICM")


def test_what_the_archive_lists_twice_is_retrieved_and_counted_once(
    tmp_path: Path,
) -> None:
    archive = RepeatingArchive()
    report = pull(archive, StudyQuery("S01"), LocalStore(tmp_path))
    assert (len(report.studies), len(report.series), report.announced) == (1, 1, 1)
    assert archive.retrievals == 1
    assert report.is_complete


def test_progress_is_reported_and_cancel_stops_between_series(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    report = pull(
        RepeatingArchive(),
        StudyQuery("S01"),
        LocalStore(tmp_path),
        progress=lambda done, total, _series: seen.append((done, total)),
    )
    assert seen == [(0, 1), (1, 1)]
    assert report.present == 1
    with pytest.raises(PullCancelled, match="a new pull resumes"):
        pull(
            RepeatingArchive(),
            StudyQuery("S01"),
            LocalStore(tmp_path),
            is_cancelled=lambda: True,
        )
