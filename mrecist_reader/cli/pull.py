"""``mrecist-reader pull (--dicomweb URL | --dimse AET@HOST:PORT) [...] -o DIR``.

Finds the studies of a trial subject (ClinicalTrialSubjectID) or a study UID in an
archive, retrieves their images into ``DIR/STUDY_UID/SERIES_UID/SOP_UID.dcm`` and prints
one line per series. Images already in DIR are not retrieved again, so an interrupted
pull is resumed by running it again. Exit status 0 only when every image the archive
announced is in DIR; 1 when some did not arrive (each missing one is named on stderr);
2 when the archive cannot be reached or refuses (one line saying why).

Credentials never go on the command line (where ``ps`` shows them): the password of
``--user`` is read from ``MRECIST_READER_ARCHIVE_PASSWORD``, a bearer token from
``MRECIST_READER_ARCHIVE_TOKEN``. Printed lines carry UIDs, the trial subject ID,
modality and counts only, never a patient's name or ID.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.archive.pull import Archive, PullReport, SeriesOutcome

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
PASSWORD_VARIABLE = "MRECIST_READER_ARCHIVE_PASSWORD"
TOKEN_VARIABLE = "MRECIST_READER_ARCHIVE_TOKEN"


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``pull`` command."""
    parser = subparsers.add_parser(
        "pull",
        help="retrieve a subject's or a study's images from a DICOM archive",
        description="Search an archive (DICOMweb or DIMSE) by trial subject and/or study "
        "UID and retrieve the images into DIR. Exit 0 only when every image the archive "
        f"announced arrived. Password: ${PASSWORD_VARIABLE}; token: ${TOKEN_VARIABLE}.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dicomweb", metavar="URL", help="DICOMweb base URL")
    where.add_argument("--dimse", metavar="AET@HOST:PORT", help="DIMSE archive")
    parser.add_argument("--subject", metavar="ID", help="ClinicalTrialSubjectID")
    parser.add_argument("--study", metavar="UID", help="StudyInstanceUID")
    parser.add_argument("--modality", metavar="CODE", help="only series of it (CT, MR)")
    parser.add_argument(
        "--timepoint", metavar="LABEL", help="ClinicalTrialTimePointID (e.g. FU1)"
    )
    parser.add_argument("-o", "--output", metavar="DIR", required=True, type=Path)
    parser.add_argument("--user", metavar="NAME", help="DICOMweb basic authentication")
    parser.add_argument("--ca-bundle", metavar="PEM", help="CA certificates (DICOMweb)")
    parser.add_argument(
        "--our-aet", metavar="AET", default="MRECIST", help="our AE title"
    )
    parser.add_argument("--move-port", metavar="PORT", type=int, help="C-MOVE fallback")
    parser.add_argument(
        "--method", choices=("auto", "get", "move"), default="auto", help="DIMSE only"
    )
    parser.add_argument("--timeout", metavar="S", type=float, default=10.0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Pull, print one line per series and return the exit status."""
    from mrecist_reader.archive.pull import pull
    from mrecist_reader.archive.records import StudyQuery
    from mrecist_reader.archive.store import LocalStore

    if not args.subject and not args.study:
        print("error: give --subject, --study or both", file=sys.stderr)
        return EXIT_USAGE
    archive = _archive(args)
    query = StudyQuery(
        args.subject, args.study, args.modality, timepoint=args.timepoint
    )
    report = pull(archive, query, LocalStore(args.output), method=args.method)
    _print(report, args.output)
    if not report.studies:
        print(f"error: {archive}: no study matches", file=sys.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK if report.is_complete else EXIT_INCOMPLETE


def _archive(args: argparse.Namespace) -> "Archive":
    from mrecist_reader.archive.dicomweb import DicomwebArchive
    from mrecist_reader.archive.dimse import DimseArchive
    from mrecist_reader.archive.nodes import (
        DicomwebNode,
        InvalidNode,
        parse_dimse_address,
    )

    if args.dimse:
        return DimseArchive(
            parse_dimse_address(
                args.dimse,
                our_ae_title=args.our_aet,
                move_port=args.move_port,
                timeout_s=args.timeout,
            )
        )
    password = os.environ.get(PASSWORD_VARIABLE) if args.user else None
    if args.user and not password:
        raise InvalidNode(
            f"--user {args.user}: put the password in ${PASSWORD_VARIABLE} (never on "
            "the command line)"
        )
    node = DicomwebNode(
        args.dicomweb,
        username=args.user,
        password=password,
        token=os.environ.get(TOKEN_VARIABLE) or None,
        ca_bundle=args.ca_bundle,
        connect_timeout_s=args.timeout,
        read_timeout_s=max(args.timeout, 60.0),
    )
    return DicomwebArchive(node)


def _print(report: "PullReport", output: Path) -> None:
    for study in report.studies:
        print(f"study {study.study_uid} subject {study.subject_id or '-'}")
        for outcome in report.series:
            if outcome.series.study_uid == study.study_uid:
                _print_series(outcome)
    print(f"{report.present} of {report.announced} images in {output}")


def _print_series(outcome: "SeriesOutcome") -> None:
    series = outcome.series
    state = "complete" if outcome.is_complete else f"{len(outcome.missing)} MISSING"
    print(
        f"  series {series.series_uid} {series.modality or '-'} "
        f"{series.description!r}: {outcome.announced} announced, "
        f"{outcome.arrived} retrieved, {outcome.already_here} already here, {state}"
    )
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
    for sop_uid in outcome.missing:
        print(
            f"error: series {series.series_uid}: image {sop_uid} did not arrive",
            file=sys.stderr,
        )
