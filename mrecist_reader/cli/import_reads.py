"""``mrecist-reader import MEASUREMENTS.csv [--db URL]``: load reads into the database.

All or nothing, in one transaction. Problems in the file are printed as
``FILE:LINE: message`` (exit 1, nothing stored); a timepoint already signed in the
database is never overwritten (exit 1, naming subject, reader and timepoint). Rows marked
signed in the file are stored as signed.

A read already in the database is merged with the file's: what the file does not
mention (a timepoint, a lesion, an observation) is kept. ``--replace`` replaces each such
read by the file's instead; every removal and change goes into the audit trail with its
old value. A read already there unchanged is "already imported" (exit 0). A database
that fails ``audit --verify`` is refused (exit 1).
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.core.model import Read
    from mrecist_reader.core.protocol import ProtocolProfile

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``import`` command."""
    parser = subparsers.add_parser(
        "import",
        help="load the reads of a measurements.csv into the database",
        description="Load the reads of a measurements.csv (another workstation's reads, "
        "a site's local reads) into the reads database, all or nothing. A timepoint "
        "already signed in the database is never overwritten.",
    )
    parser.add_argument("measurements", type=Path, metavar="MEASUREMENTS.csv")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL (default: the user's local database)",
    )
    parser.add_argument(
        "--protocol",
        metavar="FILE",
        help="a protocol profile file (.toml) for reads whose protocol_profile is its "
        "name (or this file's path); its text is copied into the database. Without "
        "it only shipped profiles and profiles already in the database are accepted "
        "(a path in the CSV is never opened)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace each read already in the database by the file's: timepoints, "
        "lesions and observations the file does not mention are REMOVED (each removal "
        "is in the audit trail with its old values; signed timepoints are never "
        "removed). Default: keep them and merge the file's rows in",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import the file; return 0, or 1 when it is invalid or conflicts with signed reads."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.core.errors import InvalidProfile, InvalidRead
    from mrecist_reader.resources import ProfileResolver, load_profile
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.audit import Actor, current_os_user
    from mrecist_reader.storage.errors import SignedReadConflict
    from mrecist_reader.storage.repository import ReadRepository
    from mrecist_reader.transfer.csv_in import format_problem, read_measurements

    path: Path = args.measurements
    settings = load_user_settings()
    try:
        chosen = load_profile(args.protocol) if args.protocol else None
    except (OSError, InvalidProfile) as error:
        print(f"error: --protocol: {error}", file=sys.stderr)
        return 2
    actor = Actor(settings.reader_id or "(import)", current_os_user())
    url = database_url(args.db, settings.db_url)
    stored = _StoredProfiles(url)
    try:
        resolver = ProfileResolver(chosen, args.protocol, stored)
        reads = read_measurements(path, profile_for=resolver)
    except InvalidRead as invalid:
        for problem in invalid.problems:
            print(format_problem(path, problem), file=sys.stderr)
        return 1
    finally:
        stored.close()
    reads = resolver.named(reads)
    with ReadRepository(url) as repository:
        try:
            outcome = repository.import_reads(
                reads,
                actor=actor,
                source=path.name,
                replace_reads=args.replace,
                profiles=resolver.used,
            )
        except SignedReadConflict as conflict:
            for message in conflict.conflicts:
                print(f"{path}: {message}", file=sys.stderr)
            print(f"{path}: nothing was imported", file=sys.stderr)
            return 1
    if outcome.imported == 0 and outcome.profiles_recorded == 0:
        print(
            f"already imported: the {outcome.unchanged} read(s) of {path.name} are "
            "in the database unchanged"
        )
        return 0
    if outcome.imported == 0:
        print(
            f"recorded the protocol profile of {outcome.profiles_recorded} read(s) "
            f"from {path.name} (audited); their lesions and timepoints are unchanged"
        )
        return 0
    line = f"imported {outcome.imported} read(s) from {path.name}"
    if outcome.unchanged:
        line += f" ({outcome.unchanged} already imported, unchanged)"
    if outcome.removed:
        line += (
            f"; removed {outcome.removed} item(s) the file does not mention (--replace)"
        )
    print(line)
    _note_blinded_dates(path, reads)
    return 0


class _StoredProfiles:
    """The profile texts a database already stores, by name, for the CSV's names.

    The database is opened (before the file is read, so that an unusable one is a
    usage error) only when it exists: a refused file creates no database (all or
    nothing), and a new one stores no profile yet.
    """

    def __init__(self, url: str) -> None:
        from mrecist_reader.cli import database_url
        from mrecist_reader.storage.errors import DatabaseUnavailable
        from mrecist_reader.storage.repository import ReadRepository

        self._repository: ReadRepository | None = None
        try:
            database_url(url, url, must_exist=True)
        except DatabaseUnavailable:
            return  # a missing SQLite file: created by the import itself
        self._repository = ReadRepository(url)

    def __call__(self, name: str) -> "tuple[ProtocolProfile, ...]":
        return () if self._repository is None else self._repository.profiles_named(name)

    def close(self) -> None:
        if self._repository is not None:
            self._repository.close()


def _note_blinded_dates(path: Path, reads: "tuple[Read, ...]") -> None:
    """Say that central reads keep study days only (their scan dates are not stored)."""
    from mrecist_reader.core.model import ReadType

    dated = [
        read.key.subject_id
        for read in reads
        if read.key.read_type is ReadType.CENTRAL
        and any(tp.scan_date is not None for tp in read.timepoints)
    ]
    if dated:
        print(
            f"{path}: note: scan dates of {len(dated)} central (blinded) read(s) were "
            "not stored; central reads keep study days only",
            file=sys.stderr,
        )
