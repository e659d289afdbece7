"""atomic_write: a file is written completely or not at all (data-transfer.md §Files)."""

import os
import stat
import threading
from pathlib import Path
from typing import Any

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


def test_a_new_file_is_readable_by_others_under_umask_022(tmp_path: Path) -> None:
    saved = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.csv") as stream:
            stream.write("x\n")
    finally:
        os.umask(saved)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_written_through_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null`` or a pipe must never be replaced by a regular file."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(pipe.read_text()), daemon=True
    )
    reader.start()
    with atomic_write(pipe) as stream:
        stream.write("a,b\n1,2\n")
    reader.join(timeout=10)
    assert received == ["a,b\n1,2\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_an_export_is_written_as_a_pair_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mrecist_reader.core.assess import assess
    from mrecist_reader.resources import load_profile
    from mrecist_reader.transfer import csv_out

    for name in csv_out.EXPORT_FILES:
        (tmp_path / name).write_text(f"old {name}\n", encoding="utf-8")
    read = example_read()
    assessed = [(read, assess(read, load_profile("nct06779461")))]
    real_write_rows = csv_out.write_rows

    def failing_second_file(stream: Any, columns: Any, rows: Any) -> None:
        if columns == csv_out.RESPONSE_COLUMNS:
            raise OSError(28, "No space left on device")
        real_write_rows(stream, columns, rows)

    monkeypatch.setattr(csv_out, "write_rows", failing_second_file)
    with pytest.raises(OSError, match="No space left"):
        csv_out.write_export(tmp_path, [read], assessed)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(csv_out.EXPORT_FILES)
    for name in csv_out.EXPORT_FILES:
        assert (tmp_path / name).read_text(encoding="utf-8") == f"old {name}\n"
    monkeypatch.undo()
    measurements, responses = csv_out.write_export(tmp_path, [read], assessed)
    assert measurements.read_text(encoding="utf-8").startswith("schema_version,")
    assert responses.read_text(encoding="utf-8").startswith("schema_version,")
