"""``mrecist-reader audit [--db URL] [--verify]``: print or verify the audit trail.

The trail is hash-chained (SHA-256 over the previous hash and the entry's canonical
JSON); ``--verify`` recomputes the chain and exits 1 naming the first broken entry.
"""

import argparse
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.storage.audit import AuditRecord

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``audit`` command."""
    parser = subparsers.add_parser(
        "audit",
        help="print the audit trail (or --verify its hash chain)",
        description="Print every entry of the reads database's audit trail, oldest "
        "first; with --verify, check that no entry was changed, removed or inserted.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL (default: the user's local database)",
    )
    parser.add_argument(
        "--verify", action="store_true", help="check the hash chain; exit 1 if broken"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or verify the trail; return 1 when verification finds a break."""
    import sys

    from mrecist_reader.cli import database_url
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.repository import ReadRepository

    settings = load_user_settings()
    with ReadRepository(
        database_url(args.db, settings.db_url, must_exist=True)
    ) as repository:
        if not args.verify:
            for record in repository.audit_trail():
                print(format_record(record))
            return 0
        broken = repository.verify_audit_trail()
        count = len(repository.audit_trail())
    if broken is not None:
        print(f"audit trail BROKEN at {broken}", file=sys.stderr)
        return 1
    print(f"audit trail intact: {count} entries")
    return 0


def format_record(record: "AuditRecord") -> str:
    """Return one line for an entry (line breaks in values shown escaped)."""
    line = (
        f"{record.event_id:>6} {record.at_utc} {record.reader_id} ({record.os_user}) "
        f"{record.read_ref} {record.action} {record.target}: "
        f"{record.old_value or '-'} -> {record.new_value or '-'}"
    )
    if record.reason:
        line += f" [reason: {record.reason}]"
    return line.replace("\r", "\\r").replace("\n", "\\n")
