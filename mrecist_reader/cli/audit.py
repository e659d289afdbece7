"""``mrecist-reader audit [--db URL] [--reader ID] [--verify [--since FILE]]``.

Prints or verifies the trail.

The trail is hash-chained (SHA-256 over the previous hash and the entry's canonical
JSON) and each entry that changes a read records the read's content hashes after the
change. ``--verify`` recomputes the chain and every read's content and exits 1 naming
the first broken entry and every read (and timepoint) changed outside the application;
``--since FILE`` also proves that the trail extends the one an export's
``audit_head.txt`` recorded (a truncated or re-forged trail does not).

Independence (central-review.md): the command runs as the reader named by ``--reader
ID``, else by the settings' reader ID. A primary reader of assigned subjects sees only
the entries about their own reads; their ``--verify`` says whether the trail holds but
names no read (the problems name other readers' reads: the review manager reads them).
"""

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.core.integrity import AuditHead
    from mrecist_reader.storage.audit import AuditRecord
    from mrecist_reader.storage.repository import ReadRepository

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
        "--reader",
        metavar="ID",
        help="run as this reader (default: the settings' reader ID); a primary "
        "reader of assigned subjects sees only the entries about their own reads",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check the hash chain and every read's content; exit 1 if broken",
    )
    parser.add_argument(
        "--since",
        type=Path,
        metavar="FILE",
        help="with --verify: an audit_head.txt written by an earlier export; check that "
        "today's trail extends it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or verify the trail; return 1 when verification finds a break."""
    import sys

    from mrecist_reader.cli import database_url
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.repository import ReadRepository

    if args.since is not None and not args.verify:
        print("error: --since is used with --verify", file=sys.stderr)
        return 2
    since = _read_head(args.since) if args.since is not None else None
    settings = load_user_settings()
    reader_id = settings.reader_id if args.reader is None else args.reader.strip()
    with ReadRepository(
        database_url(args.db, settings.db_url, must_exist=True)
    ) as repository:
        primary = bool(reader_id) and repository.is_primary_reader(reader_id)
        if not args.verify:
            for record in visible_trail(repository, reader_id if primary else None):
                print(format_record(record))
            return 0
        problems = repository.integrity_problems(since=since)
        head = repository.audit_head()
    if problems and primary:
        print(
            f"audit trail BROKEN: {len(problems)} problems; as a primary reader you "
            "see no details (the review manager runs audit --verify)",
            file=sys.stderr,
        )
        return 1
    if problems:
        for problem in problems:
            print(f"audit trail BROKEN: {problem}", file=sys.stderr)
        return 1
    anchored = f", extends {args.since}" if args.since is not None else ""
    print(
        f"audit trail intact: {head.entries} entries, every read matches its "
        f"history{anchored} (head {head.head_hash[:16]}...)"
    )
    return 0


def visible_trail(
    repository: "ReadRepository", primary_reader: str | None
) -> "tuple[AuditRecord, ...]":
    """Return the trail a reader may see: all of it, or a primary reader's own reads'.

    A primary reader sees the entries about their reads of every read type, oldest
    first (central-review.md §Independence); no assignment, trigger or decision entry.
    """
    from mrecist_reader.core.model import ReadType
    from mrecist_reader.storage.repository import Viewer

    if primary_reader is None:
        return repository.audit_trail()
    records = {
        record.event_id: record
        for read_type in ReadType
        for record in repository.audit_trail(viewer=Viewer(primary_reader, read_type))
    }
    return tuple(records[event_id] for event_id in sorted(records))


def _read_head(path: Path) -> "AuditHead":
    """Read an ``audit_head.txt`` (exit 2 through InvalidAuditHead when unreadable)."""
    from mrecist_reader.core.integrity import AuditHead, InvalidAuditHead

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidAuditHead(f"{path}: cannot be read ({error})") from None
    return AuditHead.from_text(text, source=str(path))


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
