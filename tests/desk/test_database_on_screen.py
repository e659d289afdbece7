"""The desk shows what the reads database holds (issue 21 items 1, 6, 9).

A subject named after a PatientID is shown by its keyed pseudonym, the one the
database stores and exports; a database changed outside the application opens
read-only; an export carries the audit head; a blinded read removes its zip
extractions when it closes.
"""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mrecist_reader.core.integrity import AUDIT_HEAD_FILE, AuditHead
from mrecist_reader.core.model import Organ, ReadType
from mrecist_reader.core.pseudonym import legacy_pseudonym
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.imaging.identifiers import NO_PATIENT_PREFIX
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from mrecist_reader.resources import load_profile
from mrecist_reader.session import (
    ReadOnlyDatabase,
    known_audit_head,
    known_head_path,
    open_database,
    stored_subject_id,
)
from tests.desk.conftest import caliper_at
from tests.gui.conftest import make_series

UNKEYED = legacy_pseudonym("1234567")


def _worklist(subject_id: str = UNKEYED) -> tuple[SubjectEntry, ...]:
    return build_worklist(
        [
            make_series(
                uid=f"9.9.{index}", subject_id=subject_id, timepoint_label=label
            )
            for index, label in enumerate(("BASELINE", "FU1"))
        ]
    )


def _desk(url: str, data_dir: Path | None = None, **kwargs: object) -> ReadingDesk:
    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url=url,
        data_dir=data_dir,
        **kwargs,  # type: ignore[arg-type]
    )
    return ReadingDesk(context)


def _texts(desk: ReadingDesk) -> list[str]:
    texts: list[str] = []
    for subject in desk.worklist.subjects:
        texts.append(subject.subject_id)
        for timepoint in subject.timepoints:
            texts.extend(series.subject_id for series in timepoint.series)
    return texts


def _stored_with_target(url: str, data_dir: Path | None = None) -> str:
    """Record T1 at baseline of UNKEYED's read; return the keyed subject ID."""
    desk = _desk(url, data_dir)
    desk.set_worklist(_worklist())
    desk.open_read()
    desk.designate(caliper_at(desk, (0, 0, 0), 30), Organ.LIVER, "segment 7")
    subject_id = desk.session.read.key.subject_id if desk.session else ""
    desk.close()
    return subject_id


def test_a_patient_id_pseudonym_is_shown_keyed_as_the_database_stores_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    stored = _stored_with_target(url)
    desk = _desk(url)
    desk.set_worklist(_worklist())
    texts = _texts(desk)
    keyed = stored_subject_id(desk.repository(), UNKEYED)
    assert keyed == stored != UNKEYED
    assert keyed.startswith("patient-k")
    assert keyed in texts
    assert not any(UNKEYED in t for t in texts)
    assert desk.subject is not None
    assert desk.subject.subject_id == keyed
    session = desk.open_read()
    assert session.read.key.subject_id == keyed
    assert len(session.read.lesions) == 1  # the stored read, not a new one
    desk.close()


def test_a_blinded_folder_named_subject_is_shown_keyed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    desk = _desk(url)
    desk.set_worklist(_worklist(NO_PATIENT_PREFIX + "DOE_JOHN"))
    (subject_id,) = set(_texts(desk))
    assert subject_id.startswith("patient-k")
    assert "DOE" not in subject_id
    assert desk.open_read().read.key.subject_id == subject_id
    desk.close()


def test_trial_subject_ids_do_not_open_the_database_early(tmp_path: Path) -> None:
    opened: list[str] = []

    def opening(url: str):  # type: ignore[no-untyped-def]
        opened.append(url)
        return open_database(url)

    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.CENTRAL,
        profile=load_profile("nct06779461"),
        db_url="sqlite://",
    )
    desk = ReadingDesk(context, open_repository=opening)
    desk.set_worklist(_worklist("S01"))
    assert opened == []
    assert desk.subject is not None
    assert desk.subject.subject_id == "S01"


def _tamper(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
        connection.execute(text("DELETE FROM audit_head"))
    engine.dispose()


def test_a_database_changed_outside_opens_read_only_and_refuses_every_command(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    data = tmp_path / "data"
    _stored_with_target(url, data)
    _tamper(url)
    desk = _desk(url, data)
    reported: list[tuple[str, ...]] = []
    desk.integrity_failed.connect(reported.append)
    desk.set_worklist(_worklist())
    session = desk.open_read()
    assert desk.is_read_only
    assert session.read_only
    assert reported == [desk.integrity_problems]
    assert any("has no history" in p for p in desk.integrity_problems)
    assert any("earlier head" in p for p in desk.integrity_problems)
    assert len(session.read.lesions) == 1  # reading works
    with pytest.raises(ReadOnlyDatabase, match="read-only"):
        desk.designate(caliper_at(desk, (0, 5, 0), 35), Organ.LIVER, "dome")
    with pytest.raises(ReadOnlyDatabase):
        session.edit_location("T1", "segment 8")
    with pytest.raises(ReadOnlyDatabase):
        desk.sign()
    result = desk.export(tmp_path / "export")  # exporting works
    assert result.paths[0].is_file()
    head_file = known_head_path(data, url)
    before = head_file.read_text(encoding="utf-8")
    desk.close()
    assert head_file.read_text(encoding="utf-8") == before  # a forgery is not blessed


def test_a_database_that_verifies_is_writable_and_its_head_remembered(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    data = tmp_path / "data"
    _stored_with_target(url, data)
    desk = _desk(url, data)
    desk.set_worklist(_worklist())
    desk.open_read()
    assert not desk.is_read_only
    desk.close()
    known = known_audit_head(known_head_path(data, url))
    with open_database(url) as repository:
        assert known == repository.audit_head()


def test_an_export_from_the_desk_writes_the_audit_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    _stored_with_target(url)
    desk = _desk(url)
    desk.set_worklist(_worklist())
    desk.open_read()
    desk.export(tmp_path / "export")
    written = (tmp_path / "export" / AUDIT_HEAD_FILE).read_text(encoding="utf-8")
    assert AuditHead.from_text(written, source="x") == desk.repository().audit_head()
    desk.close()


def _extraction(tmp_path: Path) -> Path:
    import zipfile

    from mrecist_reader.imaging.zip_cache import ZipCache

    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a/b.txt", "x")
    return ZipCache(tmp_path / "cache").extract(archive).folder


@pytest.mark.parametrize("read_type", [ReadType.CENTRAL, ReadType.LOCAL])
def test_a_blinded_read_removes_its_zip_extractions_when_it_closes(
    tmp_path: Path, read_type: ReadType
) -> None:
    folder = _extraction(tmp_path)
    assert folder.is_dir()
    context = ReaderContext(
        reader_id="R01",
        read_type=read_type,
        profile=load_profile("nct06779461"),
        db_url="sqlite://",
    )
    desk = ReadingDesk(context)
    desk.keep_extraction(folder)
    desk.close()
    assert folder.exists() is (read_type is ReadType.LOCAL)


def _folder_series_warned(subject_id: str) -> tuple[SubjectEntry, ...]:
    from dataclasses import replace

    from mrecist_reader.imaging.identifiers import PATIENT, identifier_warnings

    (subject,) = _worklist(subject_id)
    warnings = identifier_warnings([PATIENT])  # the scanner's own words
    timepoints = tuple(
        replace(tp, series=tuple(replace(s, warnings=warnings) for s in tp.series))
        for tp in subject.timepoints
    )
    return (replace(subject, timepoints=timepoints),)


def test_a_blinded_read_does_not_point_at_the_folder_in_a_series_warning() -> None:
    desk = _desk("sqlite://")
    desk.set_worklist(_folder_series_warned(NO_PATIENT_PREFIX + "DOE_JOHN"))
    series = desk.worklist.subjects[0].timepoints[0].series[0]
    (warning,) = series.warnings
    assert "folder" not in warning
    assert "pseudonym" in warning
    assert "never joined to other patients" in warning
    desk.close()


def test_the_load_report_names_series_as_the_worklist_does(tmp_path: Path) -> None:
    (subject,) = _folder_series_warned(NO_PATIENT_PREFIX + "DOE_JOHN")
    scanned = subject.timepoints[0].series[0]
    desk = _desk(f"sqlite:///{tmp_path / 'reads.db'}")
    desk.set_worklist((subject,))
    shown = desk.shown_series(scanned)
    listed = desk.worklist.subjects[0].timepoints[0].series[0]
    assert shown.subject_id == listed.subject_id
    assert shown.subject_id.startswith("patient-k")
    assert shown.warnings == listed.warnings
    desk.close()
    local = ReadingDesk(replace_context(desk.context, ReadType.LOCAL))
    assert local.shown_series(scanned) is scanned  # a local read shows the folder


def replace_context(context: ReaderContext, read_type: ReadType) -> ReaderContext:
    from dataclasses import replace

    return replace(context, read_type=read_type)
