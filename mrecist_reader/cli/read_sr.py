"""``mrecist-reader read-sr FILE...``: the lesions of TID 1500 Measurement Reports.

Reads each DICOM SR written by this application or another (a site read made
elsewhere, an SR from the archive) and prints, lesion by lesion, its tracking
identifier, type, status, finding site, viable diameter and caliper end points on its
image (columns, rows), then the timepoint's responses when it carries them. Exit 1
when a file is not a TID 1500 report (named, with the reason); the report's patient
identity is never printed.
"""

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``read-sr`` command."""
    parser = subparsers.add_parser(
        "read-sr",
        help="print the lesions and calipers of DICOM SR measurement reports",
        description="Print, lesion by lesion, what TID 1500 Measurement Reports hold: "
        "tracking ID, type, status, site, viable diameter and caliper on its image.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every report; return 0, or 1 when a file is not a TID 1500 report."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    from mrecist_reader.archive.sr import read_report, read_responses

    status = 0
    for path in args.files:
        try:
            sr = dcmread(path)
            lesions = read_report(sr)
        except (OSError, InvalidDicomError, ValueError, AttributeError) as error:
            print(
                f"error: {path}: not a TID 1500 measurement report ({error})",
                file=sys.stderr,
            )
            status = 1
            continue
        trial = sr.get("ClinicalTrialTimePointID", "")
        print(
            f"{path.name}: study {sr.get('StudyInstanceUID', '?')}"
            f"{f' timepoint {trial}' if trial else ''}: {len(lesions)} lesion(s)"
        )
        for lesion in lesions:
            diameter = (
                "" if lesion.diameter_mm is None else f" {lesion.diameter_mm:g} mm"
            )
            caliper = (
                " caliper "
                + " - ".join(f"({c:.1f}, {r:.1f})" for c, r in lesion.caliper_px)
                + f" on {lesion.sop_instance_uid}"
                if lesion.caliper_px
                else ""
            )
            print(
                f"  {lesion.lesion_id} {lesion.lesion_type or '?'} "
                f"{lesion.status or '?'} site {lesion.organ_code or '?'}"
                f"{diameter}{caliper}"
            )
        responses = read_responses(sr)
        if responses:
            print("  responses: " + ", ".join(f"{k} {v}" for k, v in responses.items()))
    return status
