"""``mrecist-reader measure SERIES --at X,Y,Z [--json]`` on a phantom written as DICOM."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mrecist_reader.cli import main
from tests.imaging.test_measure_phantom import Phantom, PhantomSpec, build_phantom
from tests.kit import dicom

SPEC = PhantomSpec(semi_axes_mm=(14.0, 9.0, 11.0), angle=0.5, margin_mm=25.0, seed=41)
SPEC_KEYS = [
    "viable_diameter_mm",
    "p1_mm",
    "p2_mm",
    "sop_instance_uid",
    "slice_index",
    "viable_area_mm2",
]


def write_series(phantom: Phantom, folder: Path, description: str) -> str:
    """Write the phantom as one CT series of single-frame files; return its UID."""
    volume = phantom.volume
    affine = volume.affine
    spec = dicom.SeriesSpec(
        n_slices=volume.shape[0],
        rows=volume.shape[1],
        columns=volume.shape[2],
        pixel_spacing=phantom.spec.pixel_spacing_mm,
        slice_step=phantom.spec.slice_spacing_mm,
        origin=(float(affine[0, 3]), float(affine[1, 3]), float(affine[2, 3])),
        description=description,
        intercept=0.0,
        bits_stored=16,
        signed=True,
        shuffle=False,
        pixels=lambda k: np.asarray(volume.array[k]),
    )
    expected = [affine[:3, 3] + k * affine[:3, 0] for k in range(volume.shape[0])]
    assert np.allclose(dicom.slice_positions(spec), expected)  # the phantom's geometry
    dicom.write_series(folder, spec)
    return spec.series_uid


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return build_phantom(SPEC)


@pytest.fixture(scope="module")
def study(
    tmp_path_factory: pytest.TempPathFactory, phantom: Phantom
) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("study")
    uid = write_series(phantom, root / "arterial", "LIVER ARTERIAL")
    write_series(phantom, root / "venous", "LIVER PORTAL VENOUS")
    return root, uid


def at(point: tuple[float, ...]) -> str:
    return "--at=" + ",".join(f"{v:.3f}" for v in point)


def test_json_has_the_spec_keys_and_the_true_diameter(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    code = main(["measure", str(root / "arterial"), at(phantom.centre_mm), "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0
    assert list(answer)[:6] == SPEC_KEYS
    assert answer["viable_diameter_mm"] == pytest.approx(phantom.truth_mm, abs=1.0)
    assert math.dist(answer["p1_mm"], answer["p2_mm"]) == pytest.approx(
        answer["viable_diameter_mm"], abs=0.1
    )


def test_the_reported_slice_is_the_file_with_that_sop_instance_uid(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    import pydicom

    root, _ = study
    main(["measure", str(root / "arterial"), at(phantom.centre_mm), "--json"])
    answer = json.loads(capsys.readouterr().out)
    files = {
        pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p
        for p in (root / "arterial").iterdir()
    }
    header = pydicom.dcmread(files[answer["sop_instance_uid"]], stop_before_pixels=True)
    assert float(header.ImagePositionPatient[2]) == pytest.approx(
        answer["p1_mm"][2], abs=0.01
    )


def test_text_output_names_the_diameter_and_the_slice(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    assert main(["measure", str(root / "arterial"), at(phantom.centre_mm)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("viable diameter: ")
    assert "SOP Instance UID" in out


def test_a_series_uid_with_in_path_selects_that_series(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, uid = study
    code = main(["measure", uid, "--in", str(root), at(phantom.centre_mm), "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["viable_diameter_mm"] > 0


def test_a_click_in_plain_liver_exits_1_with_a_message(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    code = main(
        ["measure", str(root / "arterial"), at(phantom.lesion_point_mm(2.2, 0.0))]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "no enhancing lesion at this point" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("bad", ["1,2", "a,b,c", "1,2,3,4", "1,nan,3", ""])
def test_a_malformed_point_exits_2_naming_the_option(
    study: tuple[Path, str], bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    assert main(["measure", str(root / "arterial"), f"--at={bad}"]) == 2
    err = capsys.readouterr().err
    assert "--at" in err
    assert "expected X,Y,Z" in err


def test_a_folder_with_two_series_exits_2_asking_for_one(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, uid = study
    assert main(["measure", str(root), at(phantom.centre_mm)]) == 2
    err = capsys.readouterr().err
    assert "holds 2 image stacks" in err
    assert uid in err


def test_an_unknown_series_uid_exits_2(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    assert main(["measure", "1.2.3.4", "--in", str(root), at(phantom.centre_mm)]) == 2
    assert "no image series with SeriesInstanceUID 1.2.3.4" in capsys.readouterr().err


def test_a_missing_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["measure", str(tmp_path / "nowhere"), "--at=0,0,0"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_non_arterial_series_is_measured_with_a_warning(
    study: tuple[Path, str], phantom: Phantom, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = study
    assert main(["measure", str(root / "venous"), at(phantom.centre_mm), "--json"]) == 0
    assert "not arterial" in capsys.readouterr().err


def test_every_line_of_the_text_output_ends_with_a_newline_including_the_note() -> None:
    from mrecist_reader.cli.measure import format_text
    from mrecist_reader.imaging.measure import ViableMeasurement

    result = ViableMeasurement(
        p1_mm=(0.0, 0.0, 0.0),
        p2_mm=(30.0, 0.0, 0.0),
        diameter_mm=30.0,
        slice_index=3,
        sop_instance_uid="1.2.3",
        viable_area_mm2=400.0,
        non_viable_crossed_mm=12.0,
    )
    text = format_text(result)
    assert text.endswith("\n")
    assert text.splitlines()[-1].startswith("note: 12.0 mm of the caliper crosses")


SAMPLE_ART = Path(__file__).resolve().parents[2] / "sample_dicom/S01/BASELINE/ART"


@pytest.mark.skipif(not SAMPLE_ART.is_dir(), reason="sample_dicom/ is absent")
def test_a_click_on_the_spine_of_the_sample_exits_1_without_a_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["measure", str(SAMPLE_ART), "--at=0,60,-70"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no enhancing lesion at this point" in captured.err
    assert "bone or calcification" in captured.err or "HU" in captured.err
