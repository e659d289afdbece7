"""Read an SR back from the archive: find a subject's or study's reports, fetch one, show it.

The Qt-free model of File > Open SR from archive... (``ui/archive_reports_dialog.py``):
the archive's studies of a trial subject (or one study UID) are searched for series of
modality SR; each report (one SR instance) is a result row. The chosen report is
retrieved into the cache (``<cache>/reports``; one already there is not fetched again)
and opened read only as File > Open SR... opens a file
(:func:`mrecist_reader.desk.sr_view.open_report`). The images its lesions point to are
looked for where their series were opened and in the folder Open from archive pulls
the subject's studies into. A blinded read's rows show no study date.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mrecist_reader.archive.errors import ArchiveRequestFailed
from mrecist_reader.archive.pull import Archive
from mrecist_reader.archive.records import InstanceRecord, StudyQuery, StudyRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.archive_browser import ArchiveBrowser, default_cache
from mrecist_reader.desk.sr_view import ReportView, open_report

COLUMNS = ("Subject", "Timepoint", "Study date", "Report", "SOP Instance UID")
BLINDED_COLUMNS = ("Subject", "Timepoint", "Report", "SOP Instance UID")


@dataclass(frozen=True, slots=True)
class ArchivedReport:
    """One SR instance the archive announced, with the study it belongs to."""

    study: StudyRecord
    description: str
    instance: InstanceRecord


@dataclass(frozen=True, slots=True)
class FetchedReport:
    """A report fetched from the archive: its view and the folders to find images in."""

    view: ReportView
    image_folders: tuple[Path, ...]


class ArchiveReports:
    """Find the SRs of a subject or study in an archive and fetch one (no Qt)."""

    def __init__(
        self, archive: Archive, cache: Path | None = None, *, blinded: bool
    ) -> None:
        self.archive = archive
        self.cache = cache or default_cache()
        self.blinded = blinded
        self.found: tuple[ArchivedReport, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the result table's column titles (no date column when blinded)."""
        return BLINDED_COLUMNS if self.blinded else COLUMNS

    def search(
        self, subject_id: str = "", study_uid: str = ""
    ) -> tuple[tuple[str, ...], ...]:
        """Find the reports (series of modality SR); return the table's rows."""
        if not subject_id.strip() and not study_uid.strip():
            raise ValueError("name a trial subject ID or a study UID to look for SRs")
        query = StudyQuery(
            subject_id=subject_id.strip() or None, study_uid=study_uid.strip() or None
        )
        studies = {s.study_uid: s for s in self.archive.find_studies(query)}
        found: dict[str, ArchivedReport] = {}
        for study in studies.values():
            for series in self.archive.find_series(study.study_uid, "SR"):
                if series.modality and series.modality != "SR":
                    continue  # an archive that ignores the modality filter
                for instance in self.archive.find_instances(series):
                    found.setdefault(
                        instance.sop_uid,
                        ArchivedReport(study, series.description, instance),
                    )
        self.found = tuple(
            sorted(
                found.values(),
                key=lambda r: (
                    r.study.subject_id,
                    r.study.study_date,
                    r.study.timepoint,
                    r.instance.sop_uid,
                ),
            )
        )
        return tuple(self._row(report) for report in self.found)

    def _row(self, report: ArchivedReport) -> tuple[str, ...]:
        study = report.study
        if self.blinded:
            return (
                study.subject_id,
                study.timepoint,
                report.description,
                report.instance.sop_uid,
            )
        return (
            study.subject_id,
            study.timepoint,
            _iso_date(study.study_date),
            report.description,
            report.instance.sop_uid,
        )

    def fetch(
        self, row: int, *, on_file: Callable[[Path], None] | None = None
    ) -> FetchedReport:
        """Retrieve the report of a result row (unless already here) and open it.

        Raises ``ArchiveRequestFailed`` naming the report when it did not arrive, and
        :class:`~mrecist_reader.desk.sr_view.NotAReport` when it is not TID 1500.
        """
        report = self.found[row]
        instance = report.instance
        store = LocalStore(self.cache / "reports", on_write=on_file)
        if instance.sop_uid not in store.present(
            instance.study_uid, instance.series_uid
        ):
            self.archive.retrieve([instance], store)
        path = (
            store.series_dir(instance.study_uid, instance.series_uid)
            / f"{instance.sop_uid}.dcm"
        )
        if not path.is_file():
            raise ArchiveRequestFailed(
                f"{self.archive}: the report {instance.sop_uid} did not arrive"
            )
        pulled = ArchiveBrowser(
            self.archive, self.cache, blinded=self.blinded
        ).folder_for_subject(report.study.subject_id)
        folders = (pulled,) if pulled.is_dir() else ()
        return FetchedReport(open_report(path), folders)


def _iso_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 else text
