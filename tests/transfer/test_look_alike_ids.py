"""Look-alike subject IDs never make separate subjects (issue 21, item 4)."""

from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.core.errors import InvalidRead
from mrecist_reader.core.subject_ids import InvalidIdentifier
from mrecist_reader.resources import load_profile
from mrecist_reader.storage.audit import Actor
from mrecist_reader.storage.repository import ReadRepository
from mrecist_reader.transfer.csv_in import read_measurements
from tests.transfer.csv_edit import edit, two_subjects

S01_LINES = tuple(range(2, 11))


def with_subject(value: str, lines: tuple[int, ...] = S01_LINES) -> str:
    text = two_subjects()
    for line in lines:
        text = edit(text, line, "subject_id", value)
    return text


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidRead) as invalid:
        read_measurements(path, profile_for=load_profile)
    return [f"{p.line}: {p.message}" for p in invalid.value.problems]


@pytest.mark.parametrize(
    ("look_alike", "character"),
    [
        ("S\u200b01", "U+200B ZERO WIDTH SPACE at character 2"),
        ("\u202e10S", "U+202E RIGHT-TO-LEFT OVERRIDE at character 1"),
        ("S\u00a001", "U+00A0 NO-BREAK SPACE at character 2"),
        ("S01\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 4"),
    ],
    ids=["zero-width-space", "rtl-override", "no-break-space", "bom"],
)
def test_an_invisible_or_bidi_character_in_a_subject_id_is_refused(
    tmp_path, look_alike, character
):
    found = problems_of(tmp_path, with_subject(look_alike))
    assert found[0].startswith(f"2: subject_id {look_alike!r} contains {character}")
    assert len(found) == len(S01_LINES)


def test_an_import_of_a_look_alike_exits_1_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text(with_subject("S\u200b01"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(path), "--db", db]) == 1
    assert (
        f"{path}:2: subject_id 'S\\u200b01' contains U+200B" in capsys.readouterr().err
    )


def test_a_leading_space_makes_no_second_subject(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(with_subject(" S01 ", S01_LINES[:3]), encoding="utf-8")
    reads = read_measurements(path, profile_for=load_profile)
    assert [r.key.subject_id for r in reads] == ["S01", "S02"]


def test_a_decomposed_accent_is_the_same_subject_as_the_composed_one(tmp_path):
    path = tmp_path / "m.csv"
    text = with_subject("Jos\u00e9", S01_LINES[:3])  # composed é
    for line in S01_LINES[3:]:
        text = edit(text, line, "subject_id", "Jose\u0301")  # e + combining acute
    path.write_text(text, encoding="utf-8")
    reads = read_measurements(path, profile_for=load_profile)
    assert [r.key.subject_id for r in reads] == ["Jos\u00e9", "S02"]


def test_the_database_refuses_a_look_alike_from_any_client(tmp_path):
    from tests.storage.samples import sample_read

    read = sample_read()
    hidden = replace(read, key=replace(read.key, subject_id="S01\u200b"))
    padded = replace(read, key=replace(read.key, subject_id=" S01"))
    with ReadRepository(f"sqlite:///{tmp_path / 'reads.db'}") as repository:
        with pytest.raises(InvalidIdentifier, match="U\\+200B ZERO WIDTH SPACE"):
            repository.save(hidden, [], actor=Actor("R1", "a"))
        repository.save(padded, [], actor=Actor("R1", "a"))
        repository.save(read, [], actor=Actor("R1", "a"))
        assert [r.key.subject_id for r in repository.all_reads()] == ["S01"]
