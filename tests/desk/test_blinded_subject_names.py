"""A blinded read never shows a folder name standing in for a missing PatientID.

Images without PatientID are named after their folder ("no PatientID: folder
<name>"), and a folder is often named after the patient. In a blinded (central) read
the subject is a pseudonym everywhere: worklist, open subject, reads database, export.
"""

from pathlib import Path

from mrecist_reader.core.model import Organ, ReadType
from mrecist_reader.desk.blinding import HIDDEN_PATH, blinded_subject_id, without_paths
from mrecist_reader.imaging.identifiers import NO_PATIENT_PREFIX
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from tests.desk.conftest import caliper_at
from tests.desk.worklists import desk_over, worklist_texts
from tests.gui.conftest import make_series

FOLDER = "DOE_JOHN_19570312"


def _folder_worklist() -> tuple[SubjectEntry, ...]:
    return build_worklist(
        [
            make_series(
                uid=f"7.7.{index}",
                subject_id=NO_PATIENT_PREFIX + FOLDER,
                timepoint_label=label,
            )
            for index, label in enumerate(("BASELINE", "FU1"))
        ]
    )


def test_a_folder_named_subject_is_a_pseudonym_everywhere_in_a_blinded_read(
    tmp_path: Path,
) -> None:
    desk = desk_over(ReadType.CENTRAL, _folder_worklist())
    try:
        texts = worklist_texts(desk)
        assert not [t for t in texts if FOLDER in t], texts
        assert desk.subject is not None
        assert desk.subject.subject_id.startswith("patient-")
        session = desk.open_read()
        assert FOLDER not in session.read.key.subject_id
        desk.go_to_timepoint(0)
        desk.designate(caliper_at(desk, (0.0, 0.0, -20.0), 40.0), Organ.LIVER, "seg 7")
        result = desk.export(tmp_path)
        for path in result.paths:
            assert FOLDER not in path.read_text(encoding="utf-8")
    finally:
        desk.close()


def test_the_pseudonym_is_the_same_in_every_scan() -> None:
    name = NO_PATIENT_PREFIX + FOLDER
    assert blinded_subject_id(name) == blinded_subject_id(name)
    assert blinded_subject_id(name) != blinded_subject_id(name + " #a1b2c3")
    assert blinded_subject_id("S01") == "S01"


def test_a_local_read_keeps_the_folder_name() -> None:
    desk = desk_over(ReadType.LOCAL, _folder_worklist())
    try:
        assert desk.subject is not None
        assert desk.subject.subject_id == NO_PATIENT_PREFIX + FOLDER
    finally:
        desk.close()


def test_messages_lose_their_paths() -> None:
    text = (
        f"cannot read /data/{FOLDER}/ct/1.dcm: truncated; "
        f"C:\\scans\\{FOLDER}\\a.dcm and {FOLDER}.zip!ct/2.dcm skipped"
    )
    hidden = without_paths(text)
    assert FOLDER not in hidden
    assert hidden.count(HIDDEN_PATH) == 3
    assert hidden.startswith("cannot read <file>: truncated")


def test_words_with_a_slash_are_not_taken_for_paths() -> None:
    text = "cannot open the reads database sqlite:////tmp/DOE/x.db: disk I/O error"
    assert without_paths(text) == (
        f"cannot open the reads database sqlite:{HIDDEN_PATH}: disk I/O error"
    )
    assert without_paths("DOE_JOHN/CT/ART and/or a/b.dcm") == (
        f"{HIDDEN_PATH} and/or {HIDDEN_PATH}"
    )
