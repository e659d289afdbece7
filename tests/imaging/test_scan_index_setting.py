"""The scan index's folder is a setting (issue 20 item 3): file, variable, scans."""

import json
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.settings import format_settings, load_settings
from mrecist_reader.ui.prefetch import prefetch, scan_index_setting
from tests.kit.dicom import SeriesSpec, write_series


def test_the_setting_comes_from_the_file_or_the_environment() -> None:
    default = load_settings({}, None)
    assert default.scan_index_path is None
    assert "scan_index_dir" not in format_settings(default)  # follows the default
    from_file = load_settings({}, 'scan_index_dir = "~/indexes"\n')
    assert from_file.scan_index_path == Path("~/indexes").expanduser()
    assert 'scan_index_dir = "~/indexes"' in format_settings(from_file)
    env = {"MRECIST_READER_SCAN_INDEX_DIR": "/srv/idx"}
    assert load_settings(env, None).scan_index_path == Path("/srv/idx")


def test_the_cli_scan_and_the_start_up_scan_keep_their_index_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "study" / "ct", SeriesSpec(n_slices=4))
    where = tmp_path / "my-indexes"
    monkeypatch.setenv("MRECIST_READER_SCAN_INDEX_DIR", str(where))
    assert scan_index_setting() == where
    assert main(["scan", str(tmp_path / "study"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    (index,) = where.iterdir()
    index.unlink()
    found = prefetch(str(tmp_path / "study"))
    assert len(found.subjects) == 1
    assert [p.name for p in where.iterdir()] == [index.name]
