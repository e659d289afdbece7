"""``mrecist-reader export [--db URL] [--blinded] -o DIR``: write the reads as CSV.

Writes ``measurements.csv`` and ``responses.csv`` of every read in the database with
the one exporter the desktop application uses (:mod:`mrecist_reader.desk.export`):
measurements as recorded, responses for complete timepoints only (the timepoints left
without one are listed, with the reason), both files or neither. Blinded: no scan
dates and no site; a central read is always exported blinded.

Independence (central-review.md): the command runs as the reader named by
``--reader ID``, else by the settings' reader ID; a primary reader of assigned
subjects gets only their own reads (no final reads, no adjudication.csv); any other
caller gets everything, with adjudication.csv when the database holds read cuts.

Each read's responses are computed with the profile text stored with it (issue 21,
item 3), never with a file read again. A database that fails ``audit --verify`` is
refused (exit 1, every problem named) unless ``--allow-unverified`` is given; its
``audit_head.txt`` then says that it failed and why.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mrecist_reader.core.model import Read
    from mrecist_reader.desk.sr_export import SRFile

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``export`` command."""
    parser = subparsers.add_parser(
        "export",
        help="write measurements.csv and responses.csv of every read",
        description="Write measurements.csv and responses.csv of every read in the "
        "database into DIR (both files completely, or neither). Responses are "
        "written for complete timepoints only; the others are listed with the "
        "reason.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL (default: the user's local database)",
    )
    parser.add_argument(
        "--blinded",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="leave scan dates and site empty in local reads too (central reads are "
        "always blinded; default: the settings' blinded_export)",
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME_OR_FILE",
        help="protocol profile file for reads stored without their profile (before "
        "schema 7) made with a profile of its name that is not shipped (default: "
        "the profile stored with each read, else the shipped one it names)",
    )
    parser.add_argument(
        "--allow-unverified",
        action="store_true",
        help="export a database that fails audit --verify all the same; its "
        "audit_head.txt says so and lists every problem (default: refuse, exit 1)",
    )
    parser.add_argument(
        "--reader",
        metavar="ID",
        help="run as this reader (default: the settings' reader ID); a primary "
        "reader of assigned subjects exports only their own reads",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="DIR")
    parser.add_argument(
        "--sr",
        type=Path,
        metavar="DIR",
        help="also write a DICOM SR (TID 1500) of every signed timepoint into DIR "
        "(all or none; -o is then optional)",
    )
    parser.add_argument(
        "--images",
        type=Path,
        metavar="PATH",
        help="folder, zip or DICOMDIR holding the images the reads refer to: for "
        "--sr (a series not found is named and nothing is written, exit 1) and "
        "for the key images drawn into DIR/key_images (default: where the "
        "application last opened each series)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export every read; return 0, 1 (fails verification) or 2 (unusable folder)."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.core.errors import InvalidProfile
    from mrecist_reader.desk.export import (
        ExportFolderError,
        database_reads,
        export_reads,
    )
    from mrecist_reader.desk.key_images import volumes_for_export
    from mrecist_reader.resources import load_profile
    from mrecist_reader.settings import load_user_settings

    if args.output is None and args.sr is None:
        print("error: say where to write: -o DIR and/or --sr DIR", file=sys.stderr)
        return 2
    settings = load_user_settings()
    blinded = settings.blinded_export if args.blinded is None else bool(args.blinded)
    profile = None
    if args.protocol is not None:
        try:
            profile = load_profile(args.protocol)
        except (OSError, InvalidProfile) as error:
            print(f"error: --protocol: {error}", file=sys.stderr)
            return 2
    reader_id = settings.reader_id if args.reader is None else args.reader.strip()
    reads = database_reads(
        database_url(args.db, settings.db_url, must_exist=True),
        reader_id=reader_id,
        verify=True,
    )
    if reads.integrity_problems and not args.allow_unverified:
        for problem in reads.integrity_problems:
            print(f"error: {problem}", file=sys.stderr)
        print(
            "error: the reads database fails verification (changed outside the "
            "application): nothing was exported; export it all the same with "
            "--allow-unverified (noted in audit_head.txt)",
            file=sys.stderr,
        )
        return 1
    if reads.integrity_problems:
        print(
            f"warning: exported although the database fails verification "
            f"({len(reads.integrity_problems)} problem(s), listed in audit_head.txt)",
            file=sys.stderr,
        )
    reports = _sr_reports(args, reads, blinded=blinded)
    if isinstance(reports, int):
        return reports
    if args.output is not None:
        try:
            result = export_reads(
                reads,
                args.output,
                blinded=blinded,
                profile=profile,
                key_image_volumes=volumes_for_export(reads, args.images),
            )
        except ExportFolderError as error:
            print(f"error: -o: {error}", file=sys.stderr)
            return error.exit_status
        print(result.summary())
    return _write_sr(reports, args.sr)


def _sr_reports(
    args: argparse.Namespace, reads: "Sequence[Read]", *, blinded: bool
) -> "list[SRFile] | int":
    """Return the SRs ``--sr`` asks for (none without it), or the exit status."""
    from mrecist_reader.desk.sr_export import SRExportError, reports_for

    if args.sr is None:
        return []
    try:
        return reports_for(reads, args.images, blinded=blinded)
    except SRExportError as error:
        print(f"error: --sr: {error}; nothing was written", file=sys.stderr)
        return 1


def _write_sr(reports: "list[SRFile]", folder: Path | None) -> int:
    """Write the SRs built by :func:`_sr_reports` into ``folder``; the exit status."""
    from mrecist_reader.desk.sr_export import write_atomically

    if folder is None:
        return 0
    try:
        written = write_atomically(reports, folder)
    except OSError as error:
        print(f"error: --sr: {folder}: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} SR file(s) (DICOM TID 1500) to {folder}")
    return 0
