"""A click on a kidney in the arterial phase (CT) is refused as a kidney, not measured.

The renal cortex enhances like an HCC in the arterial phase. What tells it apart is what
its enhancing rim encloses: a less enhancing medulla *and* the fat of the renal sinus. A
necrotic HCC's rim encloses necrosis but no fat, so it is still measured.
"""

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.measure import longest_viable_diameter
from mrecist_reader.imaging.volume import Volume
from tests.imaging.test_measure import refusal
from tests.imaging.test_measure_phantom import (
    PhantomSpec,
    anatomy_grid,
    build_phantom,
    paint_volume,
)
from tests.sample_generator import load_sample_generator

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
CT_ARTERIAL = [
    f"{subject}/{timepoint}/ART"
    for subject in ("S01", "S02", "S03")
    for timepoint in ("BASELINE", "FU1", "FU2")
]


# ---------------------------------------------------------------- phantom kidney


@cache
def kidney_phantom() -> Volume:
    """Return a CT kidney in perirenal fat beside a psoas muscle and a liver.

    Cortex 200 HU (5-7 mm thick), medulla 70 HU, renal sinus fat -80 HU opening
    medially, the whole kidney (90 mm long) inside the series.
    """
    z, y, x = anatomy_grid()
    cortex = (x / 26.0) ** 2 + (y / 36.0) ** 2 + (z / 45.0) ** 2 <= 1.0
    medulla = (x / 20.0) ** 2 + (y / 29.0) ** 2 + (z / 38.0) ** 2 <= 1.0
    sinus = ((x + 14.0) / 10.0) ** 2 + (y / 13.0) ** 2 + (z / 28.0) ** 2 <= 1.0
    psoas = ((x + 48.0) / 14.0) ** 2 + ((y + 5.0) / 20.0) ** 2 <= 1.0
    liver = (x > 30.0) & (y < -20.0)
    return paint_volume(
        "CT",
        -100.0,
        [
            (liver, 90.0),
            (psoas, 50.0),
            (cortex, 200.0),
            (medulla, 70.0),
            (sinus, -80.0),
        ],
        noise=12.0,
    )


@pytest.mark.parametrize(
    "point",
    [
        pytest.param((23.0, 0.0, 0.0), id="lateral-cortex"),
        pytest.param((0.0, -32.0, 0.0), id="anterior-cortex"),
        pytest.param((0.0, 32.0, 10.0), id="posterior-cortex"),
        pytest.param((0.0, 0.0, 40.0), id="upper-pole"),
        pytest.param((0.0, 0.0, -40.0), id="lower-pole"),
        pytest.param((8.0, 10.0, 0.0), id="medulla"),
        pytest.param((-14.0, 0.0, 0.0), id="sinus-fat"),
    ],
)
def test_a_click_on_a_phantom_kidney_is_refused_as_a_kidney(
    point: tuple[float, float, float],
) -> None:
    assert "kidney" in refusal(kidney_phantom(), point)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(
            PhantomSpec(
                semi_axes_mm=(20.0, 15.0, 16.0), necrosis="core", necrosis_drop=80.0
            ),
            id="dark-necrotic-core",
        ),
        pytest.param(
            PhantomSpec(
                semi_axes_mm=(20.0, 15.0, 16.0),
                necrosis="core",
                necrosis_fraction=0.6,
                necrosis_drop=80.0,
                liver=60.0,
                noise=25.0,
            ),
            id="necrosis-at-minus-20-HU-in-strong-noise",
        ),
        pytest.param(
            PhantomSpec(
                semi_axes_mm=(20.0, 15.0, 16.0),
                necrosis="core",
                liver_edge=True,
                edge_angle=0.3,
                edge_fraction=0.85,
            ),
            id="necrotic-core-at-the-liver-edge-in-fat",
        ),
    ],
)
def test_a_ring_enhancing_hcc_around_necrosis_is_still_measured(
    spec: PhantomSpec,
) -> None:
    # A rim around a dark necrotic centre is the main use case: only fat inside the
    # rim (renal sinus) makes a kidney.
    built = build_phantom(spec)
    for point in (built.centre_mm, built.lesion_point_mm(0.85, 0.0)):
        result = longest_viable_diameter(built.volume, point)
        assert result.diameter_mm == pytest.approx(
            built.truth_mm, abs=max(2.0, 0.05 * built.truth_mm)
        )


# ---------------------------------------------------------------- sample_dicom kidneys


@cache
def sample_volume(folder: str) -> Volume:
    from mrecist_reader.imaging.load import load_volume
    from mrecist_reader.imaging.scan import scan

    (series,) = scan(SAMPLE / folder).series
    return load_volume(series)


def _pick(mask: np.ndarray, erosion: int, rule: str, x: np.ndarray) -> tuple[int, int]:
    inner = ndimage.binary_erosion(mask, iterations=erosion)
    if not inner.any():
        inner = mask
    rows, columns = np.nonzero(inner)
    if rule == "lateral":
        i = int(np.argmax(np.abs(x[rows, columns])))
    else:  # nearest to the centroid
        i = int(np.argmin((rows - rows.mean()) ** 2 + (columns - columns.mean()) ** 2))
    return int(rows[i]), int(columns[i])


@cache
def sample_kidney_points(folder: str) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """Return named points on each kidney from the generator's own anatomy.

    For each kidney: the most cranial slice that shows it (its upper pole) and the
    slice where it is largest; on each, the most lateral cortex point and the medulla
    point nearest to the medulla's centre.
    """
    generator = load_sample_generator()
    volume = sample_volume(folder)
    n_slices, n_rows, n_columns = volume.shape
    rows, columns = np.mgrid[0:n_rows, 0:n_columns]
    slices: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {-1: [], 1: []}
    for k in range(n_slices):
        index = np.column_stack(
            [np.full(rows.size, k), rows.ravel(), columns.ravel()]
        ).astype(np.float64)
        patient = index_to_patient(volume.affine, index)
        x = patient[:, 0].reshape(rows.shape)
        y = patient[:, 1].reshape(rows.shape)
        labels = generator.anatomy_labels(x, y, float(patient[0, 2]))
        for side in (-1, 1):
            kidney = np.isin(labels, (generator.CORTEX, generator.MEDULLA))
            kidney &= np.sign(x) == side
            if kidney.sum() >= 100:
                slices[side].append((k, labels * (np.sign(x) == side), x))
    points: list[tuple[str, tuple[float, ...]]] = []
    for side, found in slices.items():
        name = "right" if side < 0 else "left"
        assert found, f"no {name} kidney in {folder}"
        pole = max(found, key=lambda item: item[0])  # slice 0 is the most caudal
        largest = max(found, key=lambda item: int((item[1] > 0).sum()))
        for where, (k, labels, x) in (("upper pole", pole), ("middle", largest)):
            picks = (
                ("cortex", _pick(labels == generator.CORTEX, 1, "lateral", x)),
                ("medulla", _pick(labels == generator.MEDULLA, 2, "centre", x)),
            )
            for tissue, (row, column) in picks:
                point = index_to_patient(
                    volume.affine, np.array([[k, row, column]], dtype=np.float64)
                )[0]
                label = f"{name} kidney {where} {tissue}"
                points.append((label, tuple(float(c) for c in point)))
    return tuple(points)


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.joinpath("truth.json").is_file(), reason="no sample")
@pytest.mark.parametrize("folder", CT_ARTERIAL)
def test_clicks_on_both_kidneys_of_every_arterial_ct_are_refused_as_kidney(
    folder: str,
) -> None:
    volume = sample_volume(folder)
    points = sample_kidney_points(folder)
    assert len(points) == 8
    reasons = {
        label: refusal(volume, (point[0], point[1], point[2]))
        for label, point in points
    }
    assert {
        label: reason for label, reason in reasons.items() if "kidney" not in reason
    } == {}


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.joinpath("truth.json").is_file(), reason="no sample")
@pytest.mark.parametrize("folder", CT_ARTERIAL)
def test_every_lesion_of_an_arterial_ct_is_still_measured_beside_the_kidneys(
    folder: str,
) -> None:
    truth = json.loads(SAMPLE.joinpath("truth.json").read_text(encoding="utf-8"))
    entries = [
        entry
        for subject in truth["subjects"]
        for lesion in subject["lesions"]
        for timepoint in lesion["timepoints"]
        for entry in timepoint.get("measurements", [])
        if entry["series_folder"] == folder and "viable_seed_mm" in entry
    ]
    volume = sample_volume(folder)
    for entry in entries:
        result = longest_viable_diameter(volume, tuple(entry["viable_seed_mm"]))
        assert result.diameter_mm == pytest.approx(
            entry["viable_diameter_exact_mm"], abs=1.0
        )
