"""The window scans archives with the settings' zip cache, not the default one."""

import zipfile
from pathlib import Path

from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext
from mrecist_reader.resources import load_profile
from mrecist_reader.ui import prefetch as prefetch_module
from mrecist_reader.ui.main_window import MainWindow
from tests.kit.dicom import SeriesSpec, write_series


def _zipped_series(root: Path) -> Path:
    files = write_series(root / "ct", SeriesSpec(n_slices=6))
    archive = root / "study.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        for path in files:
            stream.write(path, path.name)
    return archive


def test_a_zip_opened_in_the_window_is_unpacked_in_the_settings_cache(
    qtbot: QtBot, tmp_path: Path
) -> None:
    archive = _zipped_series(tmp_path)
    cache = tmp_path / "my-cache"
    context = ReaderContext(
        reader_id="R01",
        read_type=ReadType.LOCAL,
        profile=load_profile("nct06779461"),
        db_url=f"sqlite:///{tmp_path / 'reads.db'}",
        zip_cache_dir=cache,
        zip_cache_mb=64,
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    try:
        main.open_path(archive)
        qtbot.waitUntil(lambda: bool(main.subjects), timeout=15000)
        assert list(cache.rglob("*.dcm")), "the archive was not unpacked in the cache"
    finally:
        main.shutdown()


def test_the_start_up_prefetch_unpacks_in_the_settings_cache(tmp_path: Path) -> None:
    archive = _zipped_series(tmp_path)
    cache = tmp_path / "my-cache"
    found = prefetch_module.prefetch(str(archive), cache_dir=cache, cache_limit_mb=64)
    assert len(found.subjects) == 1
    assert list(cache.rglob("*.dcm"))


def test_the_settings_zip_cache_reaches_the_windows_scans(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from mrecist_reader.settings import Settings
    from mrecist_reader.ui.startup import build_window

    settings = Settings(
        reader_id="R01",
        db_url=f"sqlite:///{tmp_path / 'reads.db'}",
        zip_cache_dir=str(tmp_path / "cache"),
        zip_cache_mb=64,
    )
    window = build_window(settings)
    qtbot.addWidget(window)
    try:
        assert window.opener.cache_dir == tmp_path / "cache"
        assert window.opener.cache_limit_mb == 64
    finally:
        window.shutdown()
