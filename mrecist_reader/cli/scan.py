r"""``mrecist-reader scan PATH [--json]``: list the image series under a folder, zip or DICOMDIR.

The table is for people (one line per series, then the skipped files with reasons); the
JSON is the machine contract of ``shared/spec/data-transfer.md`` (its keys first, in that
order, then extra keys). Neither shows patient names, IDs, birth dates or scan dates: the
subject column is ClinicalTrialSubjectID, or a hash when only a PatientID exists.
Exit status 2 (with one line on stderr) when PATH is missing or unusable as a whole: a
single file that is not an image, a damaged zip archive, an unreadable DICOMDIR.

The JSON is always valid JSON: a number that is not finite is written as ``null``, never
``Infinity`` or ``NaN``. The table and the error line never pass a file name's control
or bidirectional characters to the terminal (a newline, an escape sequence, a
right-to-left override that would make the line read differently): they are shown as
``\n`` or ``\u202e``.
"""

import argparse
import json
import math
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.imaging.scan import ScanResult
    from mrecist_reader.imaging.volume import SeriesInfo

EXIT_OK = 0
EXIT_USAGE = 2


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``scan`` command."""
    parser = subparsers.add_parser(
        "scan",
        help="list the image series under a folder, zip file or DICOMDIR",
        description="Find every image series under PATH (folder, zip file or DICOMDIR) "
        "and print them; files that are not usable images are listed with the reason.",
    )
    parser.add_argument("path", help="folder, zip file or DICOMDIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan ``args.path`` and print the table or the JSON; 2 when the path is missing."""
    from mrecist_reader.imaging.scan import scan
    from mrecist_reader.settings import load_user_settings

    path = Path(args.path)
    if not path.exists():
        print(f"error: {path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    settings = load_user_settings()  # the zip cache's folder and size limit
    try:
        result = scan(
            path,
            cache_dir=settings.zip_cache_path,
            cache_limit_mb=settings.zip_cache_mb,
            cache_max_age_days=settings.zip_cache_days,
            index_dir=settings.scan_index_path,
        )
    except OSError as error:  # e.g. the folder itself cannot be listed
        print(
            f"error: {path}: cannot be read: {error.strerror or error}", file=sys.stderr
        )
        return EXIT_USAGE
    refusal = unreadable_input(path, result)
    if refusal:
        print(f"error: {printable(str(path))}: {printable(refusal)}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(finite_json(scan_to_json(result)), indent=2, allow_nan=False))
    else:
        print(format_table(result))
    return EXIT_OK


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (bidi overrides, zero-width), surrogate, private, unassigned, line and
paragraph separators: never printed as they are."""


def printable(text: str) -> str:
    r"""Return ``text`` with control and bidirectional characters shown as escapes.

    A file name may hold a newline (a forged extra line), an ANSI escape sequence or a
    right-to-left override (U+202E: ``gpj.exe`` read backwards); each such character is
    shown as ``\n``, ``\t``, ``\r`` or ``\uXXXX`` instead.
    """
    if text.isprintable():
        return text
    return "".join(
        _ESCAPES.get(c)
        or (
            (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
            if unicodedata.category(c) in _HIDDEN_CATEGORIES
            else c
        )
        for c in text
    )


def finite_json(value: Any) -> Any:
    """Return ``value`` with every float that is not finite replaced by None (null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def unreadable_input(path: Path, result: "ScanResult") -> str:
    """Return why PATH as a whole is unusable ('' when it is not).

    A single file that is not a DICOM image, a damaged zip archive or an unreadable
    DICOMDIR yields no series and one skipped entry, PATH itself: that is unreadable
    input (exit 2), not an empty scan. A folder with no images is an empty scan.
    """
    if result.series or len(result.skipped) != 1:
        return ""
    only = result.skipped[0]
    return only.reason if only.path == str(path) else ""


def series_to_json(series: "SeriesInfo") -> dict[str, Any]:
    """Return one series as the spec's JSON object (spec keys first, then extras)."""
    return {
        "series_instance_uid": series.series_instance_uid,
        "study_instance_uid": series.study_instance_uid,
        "modality": series.modality,
        "series_description": series.series_description,
        "phase": series.phase.value,
        "n_images": series.n_images,
        "rows": series.rows,
        "columns": series.columns,
        "pixel_spacing_mm": list(series.pixel_spacing_mm),
        "slice_spacing_mm": series.slice_spacing_mm,
        "image_orientation": list(series.image_orientation),
        "first_position_mm": list(series.first_position_mm),
        "transfer_syntaxes": list(series.transfer_syntaxes),
        "warnings": list(series.warnings),
        "series_number": series.series_number,
        "stack_label": series.stack_label,
        "subject_id": series.subject_id,
        "timepoint_label": series.timepoint_label,
        "trial_protocol_id": series.trial_protocol_id,
        "trial_site_id": series.trial_site_id,
        "sop_instance_uids": list(series.sop_instance_uids),
        "files": [str(f) for f in series.files],
        "frames": list(series.frames),
        "substituted_identifiers": list(series.substituted_identifiers),
    }


def scan_to_json(result: "ScanResult") -> dict[str, Any]:
    """Return ``{"series": [...], "skipped": [{"path", "reason"}]}``."""
    return {
        "series": [series_to_json(s) for s in result.series],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }


_HEADINGS = (
    "subject",
    "timepoint",
    "phase",
    "modality",
    "description",
    "images",
    "size",
    "spacing mm",
    "warnings",
)


def _row(series: "SeriesInfo") -> tuple[str, ...]:
    description = series.series_description or "(no description)"
    if series.stack_label:
        description = f"{description} [{series.stack_label}]"
    row_mm, column_mm = series.pixel_spacing_mm
    slice_mm = f"{series.slice_spacing_mm:.2f}" if series.slice_spacing_mm else "-"
    cells = (
        series.subject_id or "-",
        series.timepoint_label or "-",
        series.phase.value,
        series.modality or "-",
        description,
        str(series.n_images),
        f"{series.columns}x{series.rows}",
        f"{row_mm:.2f}x{column_mm:.2f}x{slice_mm}",
        "; ".join(series.warnings) or "-",
    )
    return tuple(printable(cell) for cell in cells)


def format_table(result: "ScanResult") -> str:
    """Return the human-readable listing: one line per series, then skipped files."""
    from mrecist_reader.imaging.report import count_text

    rows = [_HEADINGS, *(_row(s) for s in result.series)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADINGS) - 1)]
    lines = [
        "  ".join(
            [
                *(
                    cell.ljust(width)
                    for cell, width in zip(r[:-1], widths, strict=True)
                ),
                r[-1],
            ]
        ).rstrip()
        for r in rows
    ]
    lines.append(f"{len(result.series)} series")  # "series" is its own plural
    if result.skipped:
        lines.append("")
        lines.append(f"{count_text(len(result.skipped), 'file')} skipped:")
        lines.extend(
            f"  {printable(s.path)}: {printable(s.reason)}" for s in result.skipped
        )
    return "\n".join(lines)
