"""The reader's window presets: a small owner-only TOML file beside settings.toml."""

import stat
from pathlib import Path

import pytest

from mrecist_reader.desk.window_presets import (
    PRESETS_FILE,
    PresetBook,
    PresetError,
    UserPreset,
    format_presets,
    parse_presets,
    presets_path,
)
from mrecist_reader.settings import settings_path


def test_the_file_lives_beside_settings_toml() -> None:
    assert presets_path() == settings_path().parent / PRESETS_FILE


def test_presets_are_saved_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "config" / PRESETS_FILE
    book = PresetBook(path)
    assert book.load() == []
    assert book.problem == ""
    book.add("Liver narrow", 120, 80)
    book.add('Bone "wide"', 2500, 480)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = PresetBook(path)
    assert again.load() == [
        UserPreset("Liver narrow", 120.0, 80.0),
        UserPreset('Bone "wide"', 2500.0, 480.0),
    ]
    assert [key for key, _ in again.keyed()] == ["5", "6"]


def test_a_preset_of_the_same_name_is_replaced_and_one_can_be_removed(
    tmp_path: Path,
) -> None:
    book = PresetBook(tmp_path / PRESETS_FILE)
    book.add("Liver", 150, 70)
    book.add("  Liver ", 160, 60)
    assert book.presets == [UserPreset("Liver", 160.0, 60.0)]
    assert book.remove("Liver") is True
    assert book.remove("Liver") is False
    assert PresetBook(book.path).load() == []


def test_a_preset_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="needs a name"):
        PresetBook(tmp_path / PRESETS_FILE).add("   ", 100, 50)


def test_only_the_first_five_take_keys() -> None:
    book = PresetBook(Path("unused.toml"))
    book.presets = [UserPreset(f"P{n}", 100.0, 0.0) for n in range(7)]
    assert [(key, p.name) for key, p in book.keyed()] == [
        ("5", "P0"),
        ("6", "P1"),
        ("7", "P2"),
        ("8", "P3"),
        ("9", "P4"),
    ]


def test_format_and_parse_round_trip() -> None:
    presets = [UserPreset("A", 1.0, -1000.0), UserPreset("Ünïcode", 350.5, 40.0)]
    assert parse_presets(format_presets(presets), "x.toml") == presets


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[preset]\nname = 1", r"presets\.toml: not valid TOML \(.*line 1"),
        ("preset = 3", "must be a list"),
        ("[[preset]]\nwidth = 1\nlevel = 2", "preset 1: field 'name'"),
        (
            '[[preset]]\nname = "A"\nwidth = "wide"\nlevel = 2',
            r"preset 1 \(A\): field 'width'",
        ),
        ('[[preset]]\nname = "A"\nwidth = 0\nlevel = 2', "at least 1"),
        ('[[preset]]\nname = "A"\nwidth = 10\nlevel = true', "field 'level'"),
    ],
)
def test_a_bad_file_is_named_with_its_place(text: str, message: str) -> None:
    with pytest.raises(PresetError, match=message):
        parse_presets(text, "presets.toml")


def test_a_bad_file_loads_no_presets_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / PRESETS_FILE
    path.write_text(
        '[[preset]]\nname = "A"\nwidth = "x"\nlevel = 1\n', encoding="utf-8"
    )
    book = PresetBook(path)
    assert book.load() == []
    assert str(path) in book.problem
    assert "field 'width'" in book.problem
