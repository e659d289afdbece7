"""``mrecist-reader assign FILE --db URL [--treatments FILE]``: who reads which subject.

``mrecist-reader assign --withdraw SUBJECT READER --reason TEXT [FILE]`` first
withdraws that primary reader's read of the subject (kept as ``READER (withdrawn N)``,
audited, the subject's cuts reopened), so that FILE may then give the subject to
another reader (central-review.md: a change after a read has started is refused unless
that read is withdrawn).

Imports ``assignments.csv`` (``subject_id``, ``reader_1``, ``reader_2``,
``adjudicator``; three distinct reader IDs per row) into the reads database, creating
it when there is none (central-review.md §Roles and assignment). ``--treatments``
stores the subjects' treatment days for the adjudication trigger. Every problem of the
file is reported as ``FILE:LINE: message`` and nothing is stored (exit 1). After the
assignment the trigger runs once: reads made before it become the assigned readers'
primary reads and are compared at their read cut.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.core.adjudication import Assignment
    from mrecist_reader.storage.repository import ReadRepository

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``assign`` command."""
    parser = subparsers.add_parser(
        "assign",
        help="assign subjects to reader 1, reader 2 and an adjudicator",
        description="Import assignments.csv (subject_id, reader_1, reader_2, "
        "adjudicator: three distinct reader IDs) into the reads database, creating it "
        "when there is none. Every problem is reported with its line; nothing is "
        "stored unless the whole file is valid.",
    )
    parser.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="assignments.csv"
    )
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL (default: the settings' db_url)"
    )
    parser.add_argument(
        "--treatments",
        type=Path,
        metavar="FILE",
        help="treatments.csv: the subjects' treatment days for the adjudication "
        "trigger (never shown to a primary reader)",
    )
    parser.add_argument(
        "--withdraw",
        nargs=2,
        metavar=("SUBJECT", "READER"),
        help="first withdraw READER's primary read of SUBJECT (needs --reason)",
    )
    parser.add_argument("--reason", metavar="TEXT", help="why the read is withdrawn")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Store the assignments; return 0, 1 (invalid file) or 2 (unreadable input)."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.core.errors import InvalidRead
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.audit import Actor, current_os_user
    from mrecist_reader.storage.repository import ReadRepository
    from mrecist_reader.transfer.assignments import read_assignments
    from mrecist_reader.transfer.csv_in import format_problem
    from mrecist_reader.transfer.treatments import read_treatments

    settings = load_user_settings()
    if args.file is None and args.withdraw is None:
        print(
            "error: give assignments.csv, or --withdraw SUBJECT READER", file=sys.stderr
        )
        return 2
    if args.withdraw is not None and not (args.reason or "").strip():
        print("error: --withdraw needs --reason TEXT (why the read is withdrawn)",
              file=sys.stderr)  # fmt: skip
        return 2
    problems: list[str] = []
    assignments: list[Assignment] = []
    if args.file is not None:
        try:
            assignments = read_assignments(args.file)
        except InvalidRead as invalid:
            problems += [format_problem(args.file, p) for p in invalid.problems]
    treatments = None
    if args.treatments is not None:
        try:
            treatments = read_treatments(args.treatments)
        except InvalidRead as invalid:
            problems += [format_problem(args.treatments, p) for p in invalid.problems]
    if problems:
        print("\n".join(f"error: {p}" for p in problems), file=sys.stderr)
        return 1
    actor = Actor(settings.reader_id or "(review manager)", current_os_user())
    url = database_url(args.db, settings.db_url)
    with ReadRepository(url) as repository:
        if args.withdraw is not None:
            subject, reader = args.withdraw
            withdrawal = repository.withdraw_read(
                subject, reader, reason=args.reason, actor=actor
            )
            print(
                f"withdrew {reader}'s read of subject {withdrawal.subject_id} (kept as "
                f"{withdrawal.kept_as!r}); {len(withdrawal.reopened)} cut(s) reopened"
            )
            if args.file is None:
                return 0
        outcome = repository.assign(
            assignments, actor=actor, source=args.file.name, treatments=treatments
        )
        new_cuts = run_trigger(repository, actor.reader_id, actor.os_user)
    print(
        f"assigned {len(outcome.created)} subject(s), changed {len(outcome.changed)}, "
        f"{len(outcome.unchanged)} unchanged"
        + (f"; treatment days of {outcome.treatments} subject(s)" if treatments else "")
        + (f"; {len(new_cuts)} read cut(s) compared" if new_cuts else "")
    )
    return 0


def run_trigger(
    repository: "ReadRepository", reader_id: str, os_user: str
) -> tuple[object, ...]:
    """Compare every assigned subject's two reads at its read cut (the trigger).

    Each profile is loaded once: the text the reads keep, else the shipped one
    (``ReadRepository.profile_by_name``; issue 21, item 3).
    """
    from mrecist_reader.core.adjudication import judge_with
    from mrecist_reader.resources import load_profile
    from mrecist_reader.storage.audit import Actor

    judge = judge_with(repository.profile_by_name(load_profile))
    return repository.trigger_adjudication(judge, actor=Actor(reader_id, os_user))
