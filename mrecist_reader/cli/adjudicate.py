"""``mrecist-reader adjudicate``: record an adjudicator's decision from the command line.

``adjudicate --db URL --subject ID --adjudicator READER --choose reader_1|reader_2
--reason REASON --rationale TEXT`` decides the subject's open read cut with the checks
of the adjudicator's screen (central-review.md §Adjudicating): the adjudicator is the
assigned one, the subject is awaiting adjudication, the reason is one of the list and
the rationale is given; the decision is audited like the screen's. Exit 1 with a
message otherwise. The trigger runs first, so a cut both readers have just signed is
in the queue.
"""

import argparse
import logging
from typing import Any

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``adjudicate`` command."""
    from mrecist_reader.core.adjudication import DecisionReason, Role

    parser = subparsers.add_parser(
        "adjudicate",
        help="record the adjudicator's choice of reader 1's or reader 2's read",
        description="Decide a subject's read cut awaiting adjudication: the chosen "
        "read becomes the subject's final read for that cut.",
    )
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL (default: the settings' db_url)"
    )
    parser.add_argument("--subject", required=True, metavar="ID")
    parser.add_argument("--adjudicator", required=True, metavar="READER")
    parser.add_argument("--choose", required=True, choices=[str(r) for r in Role])
    parser.add_argument(
        "--reason", required=True, choices=[str(r) for r in DecisionReason]
    )
    parser.add_argument(
        "--rationale", required=True, metavar="TEXT", help="why, in words (required)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Record the decision; return 0 (1: refused, with the reason on stderr)."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.cli.assign import run_trigger
    from mrecist_reader.core.adjudication import Role
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.audit import Actor, current_os_user
    from mrecist_reader.storage.repository import ReadRepository

    settings = load_user_settings()
    url = database_url(args.db, settings.db_url, must_exist=True)
    os_user = current_os_user()
    with ReadRepository(url) as repository:
        run_trigger(repository, args.adjudicator, os_user)
        case = repository.decide(
            args.subject,
            adjudicator=args.adjudicator,
            choose=Role(args.choose),
            reason=args.reason,
            rationale=args.rationale,
            actor=Actor(args.adjudicator, os_user),
        )
    print(
        f"subject {case.subject_id}, cut {case.cut}: {case.chosen_reader}'s read "
        f"({args.choose}) is final ({case.reason})"
    )
    return 0
