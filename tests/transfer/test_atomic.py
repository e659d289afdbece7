"""atomic_write: a file is written completely or not at all (data-transfer.md §Files)."""

from pathlib import Path

import pytest

from mrecist_reader.transfer.atomic import atomic_write
from mrecist_reader.transfer.csv_out import write_measurements
from tests.transfer.reads import example_read


def test_the_new_content_replaces_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_write(target) as stream:
        stream.write("new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failure_leaves_the_old_file_intact_and_nothing_behind(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")

    def write_half_then_fail() -> None:
        with atomic_write(target) as stream:
            stream.write("half a fi")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_half_then_fail()
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failing_writer_does_not_create_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(source: object, destination: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr("mrecist_reader.transfer.atomic.os.replace", broken_replace)
    with pytest.raises(OSError, match="read-only"):
        write_measurements(tmp_path / "m.csv", [example_read()])
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_is_readable_by_others(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "new.csv") as stream:
        stream.write("x\n")
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644
