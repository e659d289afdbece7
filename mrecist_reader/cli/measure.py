"""``mrecist-reader measure SERIES --at X,Y,Z [--json]``: propose a viable-diameter caliper.

SERIES is a folder or file holding one series, or a SeriesInstanceUID together with
``--in PATH`` (a folder, zip file or DICOMDIR to scan). The point is in DICOM patient
coordinates (mm). The answer is the semi-automatic longest viable diameter of the
enhancing lesion at that point (``imaging.measure``); ``--json`` prints the keys of
``shared/spec/data-transfer.md`` (then extra keys). Exit status: 0 measured; 1 no
enhancing lesion at the point; 2 bad arguments or an unreadable series.
"""

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrecist_reader.core.units import from_mm, to_mm

if TYPE_CHECKING:
    from mrecist_reader.imaging.measure import ViableMeasurement
    from mrecist_reader.imaging.volume import SeriesInfo

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NO_LESION = 1
EXIT_USAGE = 2

Point = tuple[float, float, float]


def parse_point(text: str) -> Point:
    """Parse ``X,Y,Z`` (three finite numbers, mm) for ``--at``.

    Raises
    ------
    argparse.ArgumentTypeError
        Naming the value and what was expected.

    """
    parts = [part.strip() for part in text.split(",")]
    expected = f"expected X,Y,Z: three numbers in mm separated by commas, got {text!r}"
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(expected)
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(expected) from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(expected)
    return (values[0], values[1], values[2])


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``measure`` command."""
    parser = subparsers.add_parser(
        "measure",
        help="semi-automatic longest viable diameter of the lesion at a point",
        description="Propose the longest viable (arterially enhancing) diameter of the "
        "lesion containing the point X,Y,Z (DICOM patient coordinates, mm) on one series.",
    )
    parser.add_argument(
        "series",
        metavar="SERIES",
        help="folder or file of one series, or a SeriesInstanceUID with --in PATH",
    )
    parser.add_argument(
        "--at",
        required=True,
        type=parse_point,
        metavar="X,Y,Z",
        help="the point in DICOM patient coordinates (mm), e.g. --at=-52.3,31.0,-118.5",
    )
    parser.add_argument(
        "--in",
        dest="search_path",
        metavar="PATH",
        help="folder, zip file or DICOMDIR holding the series named by UID",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure at ``args.at`` on the series and print the caliper (text or JSON)."""
    from mrecist_reader.imaging.load import VolumeLoadError, load_volume
    from mrecist_reader.imaging.measure import (
        NoEnhancingLesion,
        longest_viable_diameter,
    )

    series = _find_series(args.series, args.search_path)
    if isinstance(series, str):
        print(f"error: {series}", file=sys.stderr)
        return EXIT_USAGE
    if series.phase.value != "arterial":
        print(
            f"warning: series {series.series_instance_uid} is {series.phase.value}, "
            "not arterial; mRECIST measures the viable diameter on the arterial phase",
            file=sys.stderr,
        )
    try:
        volume = load_volume(series)
    except VolumeLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = longest_viable_diameter(volume, args.at)
    except NoEnhancingLesion as error:
        x, y, z = args.at
        print(
            f"error: {error} (X,Y,Z = {x:g},{y:g},{z:g} mm on series "
            f"{series.series_instance_uid})",
            file=sys.stderr,
        )
        return EXIT_NO_LESION
    if args.json:
        print(json.dumps(to_json(result)))
    else:
        sys.stdout.write(format_text(result))
    return EXIT_OK


def _find_series(name: str, search_path: str | None) -> "SeriesInfo | str":
    """Return the one series meant by SERIES (and ``--in``), or a message saying why not."""
    from mrecist_reader.imaging.scan import scan
    from mrecist_reader.settings import load_user_settings

    root = Path(search_path) if search_path is not None else Path(name)
    if not root.exists():
        return f"{root}: no such file or folder"
    settings = load_user_settings()  # the zip cache's folder and size limit
    found = scan(
        root,
        cache_dir=settings.zip_cache_path,
        cache_limit_mb=settings.zip_cache_mb,
        cache_max_age_days=settings.zip_cache_days,
    ).series
    if search_path is not None:
        found = tuple(s for s in found if s.series_instance_uid == name)
        if not found:
            return f"{root}: no image series with SeriesInstanceUID {name}"
    if not found:
        return f"{root}: no image series found"
    if len(found) > 1:
        listed = ", ".join(
            f"{s.series_instance_uid} {s.stack_label}".strip() for s in found
        )
        return (
            f"{root}: holds {len(found)} image stacks ({listed}); pass the folder or file "
            "of one series, or its SeriesInstanceUID with --in PATH"
        )
    return found[0]


def _tenth(value_mm: float) -> float:
    return to_mm(from_mm(value_mm))


def to_json(result: "ViableMeasurement") -> dict[str, Any]:
    """Return the spec's JSON object: its six keys first, then extras."""
    return {
        "viable_diameter_mm": _tenth(result.diameter_mm),
        "p1_mm": [round(v, 2) for v in result.p1_mm],
        "p2_mm": [round(v, 2) for v in result.p2_mm],
        "sop_instance_uid": result.sop_instance_uid,
        "slice_index": result.slice_index,
        "viable_area_mm2": _tenth(result.viable_area_mm2),
        "non_viable_crossed_mm": _tenth(result.non_viable_crossed_mm),
        "whole_diameter_mm": _optional_tenth(result.whole_diameter_mm),
        "viable_perpendicular_mm": _optional_tenth(result.viable_perpendicular_mm),
        "warnings": list(result.warnings),
        "viable_outline_mm": _polygons(result.viable_outline_mm),
        "necrotic_outline_mm": _polygons(result.necrotic_outline_mm),
    }


def _optional_tenth(value_mm: float) -> float | None:
    return None if math.isnan(value_mm) else _tenth(value_mm)


def _polygons(
    contours: tuple[tuple[tuple[float, float, float], ...], ...],
) -> list[list[list[float]]]:
    return [[[round(v, 2) for v in point] for point in contour] for contour in contours]


def format_text(result: "ViableMeasurement") -> str:
    """Return the caliper for people, one fact per line, each ending with a newline."""

    def point(p: Point) -> str:
        return f"({p[0]:.2f}, {p[1]:.2f}, {p[2]:.2f}) mm"

    lines = [
        f"viable diameter: {_tenth(result.diameter_mm):.1f} mm",
        f"slice: {result.slice_index} (SOP Instance UID {result.sop_instance_uid})",
        f"p1: {point(result.p1_mm)}",
        f"p2: {point(result.p2_mm)}",
        f"viable area on that slice: {_tenth(result.viable_area_mm2):.1f} mm²",
    ]
    if not math.isnan(result.whole_diameter_mm):
        lines.append(
            f"whole lesion (viable and necrotic): {_tenth(result.whole_diameter_mm):.1f} mm"
        )
    if not math.isnan(result.viable_perpendicular_mm):
        lines.append(
            f"viable perpendicular: {_tenth(result.viable_perpendicular_mm):.1f} mm"
        )
    lines.extend(f"check: {warning}" for warning in result.warnings)
    if result.non_viable_crossed_mm >= 1.0:
        lines.append(
            f"note: {result.non_viable_crossed_mm:.1f} mm of the caliper crosses "
            "non-enhancing tissue (necrosis); check it does not cross major necrosis"
        )
    return "".join(f"{line}\n" for line in lines)
