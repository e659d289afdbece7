"""Time per click of the semi-automatic viable diameter on a 512 x 512 x 60 volume.

Three lesions (20, 40 and 70 mm; one with a necrotic core, one touching a vessel) are
rendered in 512 x 512 x 60 CT-like volumes (0.7 mm pixels, 2.5 mm slices, noise sigma 15).
Each gets 10 clicks at random points of its viable tissue, timed after the volume is in
memory. As a reference measured in the same run on the same volumes: a plain
``scipy.ndimage.label`` of the thresholded volume and a SimpleITK ``ConnectedThreshold``
from the click. Prints median and p95 ms per click and the ratios; the last line is JSON.
Target: median <= 150 ms per click.
"""

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.measure import longest_viable_diameter
from tests.imaging.test_measure_phantom import (
    Phantom,
    PhantomSpec,
    build_phantom,
    click_index,
)

SHAPE = (60, 512, 512)
CLICKS_PER_LESION = 10


def _phantoms() -> list[Phantom]:
    base = PhantomSpec(
        pixel_spacing_mm=(0.7, 0.7),
        slice_spacing_mm=2.5,
        noise=15.0,
        contrast=100.0,
        supersample=1,
        shape=SHAPE,
    )
    specs = [
        PhantomSpec(**{**base.__dict__, "semi_axes_mm": (10.0, 8.0, 9.0), "seed": 1}),
        PhantomSpec(
            **{
                **base.__dict__,
                "semi_axes_mm": (20.0, 15.0, 17.0),
                "necrosis": "core",
                "seed": 2,
            }
        ),
        PhantomSpec(
            **{
                **base.__dict__,
                "semi_axes_mm": (35.0, 25.0, 30.0),
                "vessel": "in_plane",
                "angle": 0.6,
                "seed": 3,
            }
        ),
    ]
    return [build_phantom(spec) for spec in specs]


def _time_ms(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return 1000.0 * (time.perf_counter() - started)


def _reference_ms(
    phantom: Phantom, click: tuple[float, float, float]
) -> tuple[float, float]:
    array = phantom.volume.array
    lower = phantom.spec.liver + phantom.spec.contrast / 2
    label_ms = _time_ms(lambda: ndimage.label(array >= lower))
    image = sitk.GetImageFromArray(array)
    k, row, column = (
        int(v) for v in np.rint(patient_to_index(phantom.volume.affine, click))
    )
    upper = phantom.spec.liver + 1.5 * phantom.spec.contrast
    connected_ms = _time_ms(
        lambda: sitk.ConnectedThreshold(
            image, seedList=[(column, row, k)], lower=lower, upper=upper
        )
    )
    return label_ms, connected_ms


def main() -> dict[str, object]:
    """Run the benchmark and return its summary."""
    phantoms = _phantoms()
    rng = np.random.default_rng(7)
    clicks_ms: list[float] = []
    label_ms: list[float] = []
    connected_ms: list[float] = []
    for phantom in phantoms:
        volume = phantom.volume
        longest_viable_diameter(volume, phantom.centre_mm)  # warm-up
        for _ in range(CLICKS_PER_LESION):
            click = phantom.patient(click_index(phantom, rng))
            started = time.perf_counter()
            longest_viable_diameter(volume, click)
            clicks_ms.append(1000.0 * (time.perf_counter() - started))
        reference = _reference_ms(phantom, phantom.centre_mm)
        label_ms.append(reference[0])
        connected_ms.append(reference[1])
        print(
            f"lesion {phantom.truth_mm:5.1f} mm: median "
            f"{np.median(clicks_ms[-CLICKS_PER_LESION:]):6.1f} ms per click"
        )
    median = float(np.median(clicks_ms))
    summary = {
        "volume": "x".join(str(n) for n in SHAPE),
        "clicks": len(clicks_ms),
        "median_ms": round(median, 1),
        "p95_ms": round(float(np.percentile(clicks_ms, 95)), 1),
        "ndimage_label_ms": round(float(np.median(label_ms)), 1),
        "sitk_connected_threshold_ms": round(float(np.median(connected_ms)), 1),
        "ratio_to_ndimage_label": round(median / float(np.median(label_ms)), 2),
        "ratio_to_connected_threshold": round(
            median / float(np.median(connected_ms)), 2
        ),
        "target_median_ms": 150.0,
        "meets_target": bool(median <= 150.0 and not math.isnan(median)),
    }
    print(
        f"per click: median {summary['median_ms']} ms, p95 {summary['p95_ms']} ms; "
        f"ndimage.label of the whole volume {summary['ndimage_label_ms']} ms, "
        f"SimpleITK ConnectedThreshold {summary['sitk_connected_threshold_ms']} ms"
    )
    return summary


if __name__ == "__main__":
    print(json.dumps(main()))
