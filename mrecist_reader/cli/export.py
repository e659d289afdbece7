"""``mrecist-reader export [--db URL] [--blinded] -o DIR``: write the reads as CSV.

Writes ``measurements.csv`` and ``responses.csv`` of every read in the database, each
file atomically; everything is computed before the first file is written. Blinded: no
scan dates and no site.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.core.assess import Assessment
    from mrecist_reader.core.model import Read

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``export`` command."""
    parser = subparsers.add_parser(
        "export",
        help="write measurements.csv and responses.csv of every read",
        description="Write measurements.csv and responses.csv of every read in the "
        "database into DIR (each file completely or not at all).",
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
        help="leave scan dates and site empty (default: the settings' blinded_export)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export every read; return 0."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.repository import ReadRepository
    from mrecist_reader.transfer.csv_out import write_export

    settings = load_user_settings()
    blinded = settings.blinded_export if args.blinded is None else bool(args.blinded)
    with ReadRepository(
        database_url(args.db, settings.db_url, must_exist=True)
    ) as repository:
        reads = repository.all_reads()
    assessed = assess_reads(reads)
    folder: Path = args.output
    if folder.exists() and not folder.is_dir():
        print(
            f"error: -o: {folder}: is a file, expected the folder to write "
            "measurements.csv and responses.csv into",
            file=sys.stderr,
        )
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    write_export(folder, reads, assessed, blinded=blinded)
    print(
        f"exported {len(reads)} read(s) to {folder}" + (" (blinded)" if blinded else "")
    )
    return 0


def assess_reads(reads: "tuple[Read, ...]") -> "list[tuple[Read, Assessment]]":
    """Assess each read's complete timepoints with its own protocol profile."""
    from mrecist_reader.core.protocol import ProtocolProfile
    from mrecist_reader.resources import load_profile
    from mrecist_reader.session import assess_complete

    profiles: dict[str, ProtocolProfile] = {}
    assessed: list[tuple[Read, Assessment]] = []
    for read in reads:
        name = read.protocol_profile
        profile = profiles.setdefault(name, load_profile(name))
        assessment = assess_complete(read, profile)
        if assessment is not None:
            assessed.append((read, assessment))
    return assessed
