"""GUI test fixtures: small synthetic volumes with known geometry, and a study window.

``study`` (a two-timepoint study, written once per module) and ``window`` (a central
read of it by R01, first image shown) serve every test module that does not define its
own.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.imaging.geometry import build_affine
from mrecist_reader.imaging.volume import Phase, SeriesInfo, Volume
from mrecist_reader.ui.main_window import MainWindow
from tests.gui import dicom_study
from tests.gui.helpers import (
    central_read_window,
    forget_unanswered_dialogs,
    wait_until_ready,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@pytest.fixture(autouse=True)
def _answers_end_with_their_test() -> Iterator[None]:
    """No dialog answer scheduled by one test may answer the next test's dialog."""
    forget_unanswered_dialogs()
    yield
    forget_unanswered_dialogs()


def make_series(
    *,
    shape: tuple[int, int, int] = (24, 64, 64),
    spacing: tuple[float, float] = (0.8, 0.8),
    slice_mm: float = 2.5,
    modality: str = "CT",
    phase: Phase = Phase.ARTERIAL,
    uid: str = "1.2.3.4",
    subject_id: str = "S01",
    timepoint_label: str = "BASELINE",
    description: str = "Arterial",
) -> SeriesInfo:
    n = shape[0]
    return SeriesInfo(
        series_instance_uid=uid,
        study_instance_uid=uid + ".0",
        modality=modality,
        series_description=description,
        phase=phase,
        rows=shape[1],
        columns=shape[2],
        pixel_spacing_mm=spacing,
        slice_spacing_mm=slice_mm,
        image_orientation=AXIAL,
        first_position_mm=(-25.0, -25.0, -30.0),
        transfer_syntaxes=("1.2.840.10008.1.2.1",),
        files=tuple(Path(f"/nonexistent/{k}.dcm") for k in range(n)),
        frames=(0,) * n,
        sop_instance_uids=tuple(f"{uid}.{k + 1}" for k in range(n)),
        subject_id=subject_id,
        timepoint_label=timepoint_label,
        trial_protocol_id="NCT06779461",
        trial_site_id="SITE1",
    )


def make_volume(
    *,
    shape: tuple[int, int, int] = (24, 64, 64),
    spacing: tuple[float, float] = (0.8, 0.8),
    slice_mm: float = 2.5,
    modality: str = "CT",
    uid: str = "1.2.3.4",
    lesion_radius_px: float = 10.0,
) -> Volume:
    """Liver-like background (60 HU) with an enhancing sphere (200 HU) at the centre."""
    series = make_series(
        shape=shape, spacing=spacing, slice_mm=slice_mm, modality=modality, uid=uid
    )
    k, r, c = np.indices(shape, dtype=np.float64)
    centre = np.asarray(shape, dtype=np.float64) / 2
    dist = np.sqrt(
        ((k - centre[0]) * slice_mm / spacing[0]) ** 2
        + (r - centre[1]) ** 2
        + (c - centre[2]) ** 2
    )
    array = np.where(dist <= lesion_radius_px, 200, 60).astype(np.int16)
    array[:, :, :4] = -1000
    affine = build_affine(
        AXIAL, series.first_position_mm, spacing, (0.0, 0.0, slice_mm)
    )
    return Volume(
        array=array,
        affine=affine,
        sop_instance_uids=series.sop_instance_uids,
        series=series,
    )


@pytest.fixture
def volume() -> Volume:
    return make_volume()


@pytest.fixture(autouse=True)
def _themed_application(qapp: object) -> None:
    """Give GUI tests the application's global options and dark theme."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from mrecist_reader.ui.theme import apply_theme

    pg.setConfigOptions(imageAxisOrder="row-major")
    assert isinstance(qapp, QApplication)
    apply_theme(qapp)


@pytest.fixture(autouse=True)
def _fresh_window_settings(qapp: object) -> Iterator[None]:
    """Start every GUI test without a window layout saved by an earlier one.

    Qt fixes where QSettings live the first time they are used in a process, so the
    per-test config folder alone does not isolate them.
    """
    from PySide6.QtCore import QSettings

    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture(autouse=True)
def error_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[tuple[str, str, bool]]]:
    """Record error dialogs instead of blocking on them: (title, text, critical).

    ``tests/gui/test_errors.py`` shows the real dialogs; elsewhere a test that expects an
    error asserts on this list, and any other error fails the test at teardown.
    """
    from mrecist_reader.ui import errors

    shown: list[tuple[str, str, bool]] = []

    def record(
        parent: object, title: str, text: str, *, critical: bool = False
    ) -> None:
        shown.append((title, text, critical))

    monkeypatch.setattr(errors, "show_message", record)
    yield shown
    unexpected = [message for message in shown if message[2]]
    assert not unexpected, f"unexpected error dialogs: {unexpected}"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write a study with a 20 mm lesion at BASELINE, 12 mm at FU1 (once per module)."""
    root = tmp_path_factory.mktemp("study")
    return dicom_study.write_study(root / "study", {"BASELINE": 20.0, "FU1": 12.0})


@pytest.fixture(scope="module")
def two_phase_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write :func:`study` with arterial and portal venous series (once per module)."""
    root = tmp_path_factory.mktemp("study")
    return dicom_study.write_study(
        root / "study",
        {"BASELINE": 20.0, "FU1": 12.0},
        phases=("Arterial", "Portal venous"),
    )


@contextmanager
def study_window(
    qtbot: QtBot, tmp_path: Path, study: Path, size: tuple[int, int] = (1400, 850)
) -> Iterator[MainWindow]:
    """Open a central read of ``study`` by R01, show its first image; shut it after."""
    main = central_read_window(qtbot, tmp_path / "reads.db", reader_id="R01", size=size)
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    """Open a central read of :func:`study` by R01 and show its first image."""
    with study_window(qtbot, tmp_path, study) as main:
        yield main
