"""Acceptance check of issue 3: a messy study nobody has seen comes out of ``scan`` right.

The study (``messy_study.write_messy_study``) mixes vendors, phases, transfer syntaxes,
non-image objects and junk under random names in nested folders; every series must be
found, grouped, ordered and loaded exactly (positions and modality values as written),
every other file reported with its reason, from the folder, from a zip of it and from a
zip whose members sit under a top folder. The CLI prints the same as JSON and answers a
missing path with exit 2 and no traceback.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels.processing import apply_modality_lut

from mrecist_reader.cli import main
from mrecist_reader.cli.scan import scan_to_json
from mrecist_reader.imaging.load import VolumeLoadError, load_volume
from mrecist_reader.imaging.phase import classify_phase, phase_from_text
from mrecist_reader.imaging.scan import ScanResult, scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.imaging.messy_study import (
    ExpectedStack,
    MessyStudy,
    write_dicomdir,
    write_messy_study,
    zip_folder,
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> MessyStudy:
    """Write the messy study once for the module."""
    return write_messy_study(tmp_path_factory.mktemp("unseen") / "CD export")


@pytest.fixture(scope="module")
def scanned(study: MessyStudy, tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    """Scan the study folder once for the module."""
    return scan(study.folder, cache_dir=tmp_path_factory.mktemp("cache"))


def _by_key(result: ScanResult) -> dict[tuple[str, str], SeriesInfo]:
    return {(s.series_instance_uid, s.stack_label): s for s in result.series}


def _check_stack(found: SeriesInfo, expected: ExpectedStack) -> None:
    label = f"{expected.description} [{expected.stack_label}]"
    assert found.n_images == len(expected.positions), label
    assert found.modality == expected.modality, label
    assert found.series_description == expected.description, label
    assert found.study_instance_uid == expected.study_uid, label
    assert found.phase.value == expected.phase, label
    assert (found.rows, found.columns) == (expected.rows, expected.columns), label
    assert found.pixel_spacing_mm == pytest.approx(expected.pixel_spacing), label
    if expected.slice_spacing is None:
        assert found.slice_spacing_mm is None, label
    else:
        assert found.slice_spacing_mm == pytest.approx(expected.slice_spacing), label
    assert found.first_position_mm == pytest.approx(expected.positions[0]), label
    assert found.transfer_syntaxes == expected.transfer_syntaxes, label
    assert len(found.warnings) == len(expected.warnings), (label, found.warnings)
    for text, warning in zip(expected.warnings, found.warnings, strict=True):
        assert text in warning, label


def _check_scan(result: ScanResult, study: MessyStudy) -> None:
    found = _by_key(result)
    expected = {(s.series_uid, s.stack_label): s for s in study.stacks}
    assert sorted(found) == sorted(expected)
    for key, stack in expected.items():
        _check_stack(found[key], stack)


def _skipped_names(result: ScanResult, study: MessyStudy) -> dict[str, str]:
    names = {}
    for item in result.skipped:
        shown = item.path.split("!", 1)[1] if "!" in item.path else item.path
        if "!" not in item.path:
            shown = Path(shown).relative_to(study.folder).as_posix()
        names[shown.split("/", 1)[1] if shown.startswith("top/") else shown] = (
            item.reason
        )
    return names


def _check_skipped(result: ScanResult, study: MessyStudy) -> None:
    names = _skipped_names(result, study)
    assert sorted(names) == sorted(study.skipped)
    for name, word in study.skipped.items():
        assert word in names[name], (name, names[name])


def test_every_series_is_found_grouped_ordered_and_phased(
    scanned: ScanResult, study: MessyStudy
) -> None:
    _check_scan(scanned, study)


def test_every_junk_and_non_image_file_is_reported_with_its_reason(
    scanned: ScanResult, study: MessyStudy
) -> None:
    _check_skipped(scanned, study)


def test_every_volume_loads_with_the_positions_and_values_written(
    scanned: ScanResult, study: MessyStudy
) -> None:
    found = _by_key(scanned)
    for stack in study.stacks:
        series = found[(stack.series_uid, stack.stack_label)]
        if any("4-D" in w for w in stack.warnings):
            with pytest.raises(VolumeLoadError):
                load_volume(series, workers=1)
            continue
        volume = load_volume(series, workers=2)
        corners = (
            volume.affine
            @ np.array(
                [[k, 0, 0, 1] for k in range(len(stack.positions))], dtype=float
            ).T
        )
        np.testing.assert_allclose(
            corners[:3].T, stack.positions, atol=1e-4, err_msg=stack.description
        )
        if stack.values is not None:
            assert volume.array.dtype != np.float64, stack.description
            decoded = np.asarray(volume.array, dtype=np.float64)
            np.testing.assert_allclose(decoded, stack.values, atol=1e-3)


@pytest.mark.parametrize("prefix", ["", "top/"])
def test_the_same_study_as_a_zip_gives_the_same_answer(
    study: MessyStudy, tmp_path: Path, prefix: str
) -> None:
    archive = zip_folder(study.folder, tmp_path / "study.zip", prefix=prefix)
    result = scan(archive, cache_dir=tmp_path / "cache")
    _check_scan(result, study)
    _check_skipped(result, study)
    for item in result.skipped:
        assert item.path.startswith(f"{archive}!"), item.path
    arterial = next(s for s in result.series if s.phase.value == "arterial")
    assert load_volume(arterial, workers=1).array.shape[0] == arterial.n_images


def test_a_zip_inside_the_folder_is_reported_not_silently_dropped(
    study: MessyStudy, tmp_path: Path
) -> None:
    folder = tmp_path / "with zip"
    folder.mkdir()
    zip_folder(study.folder, folder / "nested.zip")
    result = scan(folder, cache_dir=tmp_path / "cache")
    assert [s.path for s in result.skipped] == [str(folder / "nested.zip")]
    assert result.skipped[0].reason


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mrecist_reader", "scan", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_json_is_the_scan_and_the_table_counts_everything(
    scanned: ScanResult,
    study: MessyStudy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = _cli(str(study.folder), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(json.dumps(scan_to_json(scanned)))
    assert "MRN-0042" not in shown.stdout
    assert "Unseen" not in shown.stdout

    assert main(["scan", str(study.folder)]) == 0
    table = capsys.readouterr().out
    assert f"{len(study.stacks)} series" in table
    assert f"{len(study.skipped)} files skipped" in table
    assert "4-D series" in table


def test_missing_path_is_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    missing = _cli(str(tmp_path / "no such study"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'no such study'}: no such file or folder"
    ]
    assert missing.stdout == ""


def test_a_dicomdir_of_the_study_gives_the_same_series(
    study: MessyStudy, tmp_path: Path
) -> None:
    write_dicomdir(study, tmp_path / "cd")
    result = scan(tmp_path / "cd" / "DICOMDIR", cache_dir=tmp_path / "cache")
    found = _by_key(result)
    for stack in study.stacks:
        if stack.description == "Body 2.0 CE":  # no file meta: not in a DICOMDIR
            assert (stack.series_uid, stack.stack_label) not in found
            continue
        _check_stack(found.pop((stack.series_uid, stack.stack_label)), stack)
    assert not found
    assert [s.reason.split(" ")[0] for s in result.skipped] == ["secondary"]


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Abdomen C- 5.0 B30f", "pre_contrast"),  # Siemens/Canon "C-"
        ("CT ABD (C-)", "pre_contrast"),
        ("NECT Abdomen", "pre_contrast"),
        ("T1W_FFE_PRE", "pre_contrast"),  # Philips: T1W is T1-weighted, not "with"
        ("ABD W/WO", "unknown"),  # GE protocol names: with and without contrast
        ("3.2 LIVER W+WO", "unknown"),
        ("PRE AND POST", "unknown"),
        ("CHEST WO ABD W", "unknown"),
        ("C-/C+", "unknown"),
        ("ARTERIAL LATE", "arterial"),
        ("Arterielle Phase", "arterial"),
        ("Spätphase 5 mm", "delayed"),
        ("HBP20", "delayed"),
        ("Ax LAVA ART2", "arterial"),
        ("CECT PV", "portal_venous"),
        ("C+ 70s", "portal_venous"),
    ],
)
def test_vendor_descriptions_give_the_phase_a_reader_expects(
    description: str, expected: str
) -> None:
    assert phase_from_text(description).value == expected


def test_a_with_and_without_protocol_name_leaves_the_phase_to_the_timing() -> None:
    phase = classify_phase(
        "5mm Std",
        protocol_name="3.1 ABD W/WO",
        contrast_agent="OMNIPAQUE 350",
        acquisition_seconds=36100.0,
        study_contrast_seconds=(36030.0, 36100.0),
    )
    assert phase.value == "portal_venous"


def test_unusable_path_as_a_whole_is_exit_2_and_an_empty_folder_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    assert main(["scan", str(notes)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {notes}: not a DICOM file")
    assert "Traceback" not in error

    damaged = tmp_path / "cut.zip"
    archive = zip_folder(tmp_path, tmp_path / "whole.zip")
    damaged.write_bytes(archive.read_bytes()[:-30])
    assert main(["scan", str(damaged)]) == 2
    assert f"error: {damaged}: " in capsys.readouterr().err

    (tmp_path / "empty").mkdir()
    assert main(["scan", str(tmp_path / "empty"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"series": [], "skipped": []}


def _real_copy(source: Path, target: Path) -> dict[str, Path]:
    """Copy a real folder's files under opaque names; return copy name -> original."""
    target.mkdir(parents=True)
    originals = {}
    for number, path in enumerate(sorted(p for p in source.rglob("*") if p.is_file())):
        name = f"{number:04d}"
        shutil.copyfile(path, target / name)
        originals[name] = path
    return originals


def test_real_vendor_series_mixed_into_the_study_are_found_and_loaded(
    shared_samples: Path, tmp_path: Path
) -> None:
    study = write_messy_study(tmp_path / "mixed")
    philips = _real_copy(
        shared_samples / "dcm_qa_ct/In/Philips/S21570", study.folder / "x" / "p"
    )
    ge = _real_copy(shared_samples / "dcmqi_ct-3slice", study.folder / "x" / "g")
    result = scan(study.folder, cache_dir=tmp_path / "cache")
    ours = {(s.series_uid, s.stack_label) for s in study.stacks}
    real = [
        s for s in result.series if (s.series_instance_uid, s.stack_label) not in ours
    ]
    assert sorted((s.series_description, s.stack_label, s.n_images) for s in real) == [
        ("", "", 3),
        ("", "localizer sagittal", 1),
        ("STD BRAIN 5MM", "", 28),
    ]
    reasons = sorted(s.reason.split(" ")[0] for s in result.skipped if "/x/" in s.path)
    assert reasons == ["DICOMDIR"] * 4 + ["not"] + ["secondary"] * 6
    for series in real:
        volume = load_volume(series, workers=2)
        originals = philips if "/x/p/" in str(series.files[0]) else ge
        for k, path in enumerate(series.files):
            dataset = pydicom.dcmread(originals[path.name])
            expected = apply_modality_lut(dataset.pixel_array, dataset)
            np.testing.assert_array_equal(volume.array[k], expected)
            position = volume.affine @ np.array([k, 0.0, 0.0, 1.0])
            np.testing.assert_allclose(
                position[:3],
                [float(v) for v in dataset.ImagePositionPatient],
                atol=1e-3,
            )
    brain = next(s for s in real if s.n_images == 28)
    assert brain.slice_spacing_mm == pytest.approx(5.0)
    assert brain.phase.value == "pre_contrast"  # ProtocolName "TRAUMA/PLAIN HEAD"
