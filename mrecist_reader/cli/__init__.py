"""The ``mrecist-reader`` command line.

Each subcommand lives in its own module with ``add_parser(subparsers)`` (which sets
``func=run`` on its parser) and ``run(args) -> int``. Command modules import heavy
libraries inside ``run`` only, so ``assess`` never loads numpy or Qt. With no subcommand,
``mrecist-reader [PATH]`` opens the desktop application (imported lazily).

Exit status: 0 success; 1 the input was read but is invalid; 2 usage error or unreadable
input (``shared/spec/data-transfer.md``).
"""

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from mrecist_reader import __version__
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.logs import configure_logging

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

COMMAND_MODULES: tuple[str, ...] = (
    "mrecist_reader.cli.scan",
    "mrecist_reader.cli.measure",
    "mrecist_reader.cli.assess",
    "mrecist_reader.cli.import_reads",
    "mrecist_reader.cli.export",
    "mrecist_reader.cli.audit",
    "mrecist_reader.cli.endpoints",
    "mrecist_reader.cli.pull",
)
COMMAND_NAMES: tuple[str, ...] = (
    "scan",
    "measure",
    "assess",
    "import",
    "export",
    "audit",
    "endpoints",
)
COMMAND_NAMES += ("pull",)
COMMAND_NAMES += ("assign", "adjudicate", "metrics")
COMMAND_MODULES += tuple(f"mrecist_reader.cli.{n}" for n in COMMAND_NAMES[-3:])
COMMAND_NAMES += ("read-sr",)
COMMAND_MODULES += ("mrecist_reader.cli.read_sr",)


GUI_USAGE = "mrecist-reader [PATH] [--db URL] [--protocol NAME] [-v]"
"""How the desktop application is started (the bare form, without a command)."""

GUI_OPTIONS_HELP = f"""\
desktop application (without a command):
  {GUI_USAGE}

  PATH             folder (searched recursively), zip file or DICOMDIR to open;
                   without it, File > Open chooses one
  --db URL         SQLAlchemy URL of the reads database, e.g. sqlite:///reads.db or
                   postgresql://user@dbhost/reads (default: the settings' db_url,
                   reads.db in the user data folder)
  --protocol NAME  protocol profile of new reads: a name (nct06779461, mrecist)
                   or a .toml file (default: the settings' protocol_profile)

  example: mrecist-reader sample_dicom --db sqlite:///.local/reads.db \\
               --protocol nct06779461

commands: each has its own --help, e.g. mrecist-reader scan --help
"""
"""The bare form's options, shown by ``mrecist-reader --help`` too."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="mrecist-reader",
        usage=f"{GUI_USAGE}\n       mrecist-reader [-h] [--version] [-v] COMMAND ...",
        description="mRECIST reading workstation.\nWithout a command, opens the "
        "desktop application (optionally on PATH): see below.",
        epilog=GUI_OPTIONS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more messages (-vv: debug)"
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", prog="mrecist-reader"
    )
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    """Return the parser of the bare ``mrecist-reader [PATH]`` form."""
    parser = argparse.ArgumentParser(
        prog="mrecist-reader",
        description="Open the desktop application, optionally on a folder, zip file or "
        f"DICOMDIR. Commands: {', '.join(COMMAND_NAMES)} (see --help of each).",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="folder (searched recursively), zip file or DICOMDIR to open",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL of the reads database (default: the settings' db_url)",
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME",
        help="protocol profile name or .toml file of new reads (default: the "
        "settings' protocol_profile)",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more messages (-vv: debug)"
    )
    return parser


def _is_gui_invocation(argv: Sequence[str]) -> bool:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    if any(arg in ("-h", "--help") for arg in argv) and first is None:
        return False
    return first is None or first not in COMMAND_NAMES


VALUE_OPTIONS_THAT_MAY_START_WITH_MINUS = ("--at",)


def _join_signed_values(argv: Sequence[str]) -> list[str]:
    """Turn ``--at -52,12,-130`` into ``--at=-52,12,-130``.

    argparse would read a value such as ``-52,12,-130`` as an unknown option; patient
    coordinates are negative as often as not.
    """
    joined: list[str] = []
    pending: str | None = None
    for arg in argv:
        if pending is not None:
            joined.append(f"{pending}={arg}")
            pending = None
        elif arg in VALUE_OPTIONS_THAT_MAY_START_WITH_MINUS:
            pending = arg
        else:
            joined.append(arg)
    if pending is not None:
        joined.append(pending)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    args_list = _join_signed_values(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args_list)
    except SystemExit as exit_request:  # argparse reports usage errors this way
        code = exit_request.code
        return code if isinstance(code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`... | head`): not an error of ours.
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at os.devnull so the interpreter's final flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def database_url(given: str | None, default: str, *, must_exist: bool = False) -> str:
    """Return the reads database URL of ``--db`` (or ``default``), refusing useless ones.

    Parameters
    ----------
    given
        The ``--db`` value (``None`` when the option was not given).
    default
        The settings' ``db_url``.
    must_exist
        For commands that only read (``export``, ``audit``): an SQLite file that does
        not exist is a mistyped path, not an empty database to create.

    Raises
    ------
    DatabaseUnavailable
        (exit status 2) for an empty URL, an in-memory SQLite database (it would keep
        nothing) or, with ``must_exist``, a missing SQLite file.

    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from mrecist_reader.storage.errors import DatabaseUnavailable

    if given is not None and not given.strip():
        raise DatabaseUnavailable("--db: empty URL (expected e.g. sqlite:///reads.db)")
    url = default if given is None else given
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # the repository names what is wrong with it
    if parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        raise DatabaseUnavailable(
            f"--db {url}: an in-memory database keeps nothing; name a file, e.g. "
            "sqlite:///path/reads.db"
        )
    if must_exist and not database.startswith("file:") and not os.path.isfile(database):
        raise DatabaseUnavailable(
            f"--db {url}: no reads database at {database} (this command reads an "
            "existing one; `import` or the desktop application creates it)"
        )
    return url


def _gui_input_problem(args: argparse.Namespace) -> str | None:
    """Say why the desktop application cannot start on these arguments (``None``: fine)."""
    if args.path is not None and not os.path.exists(args.path):
        return (
            f"{args.path}: no such file or folder (expected a folder, zip file or "
            f"DICOMDIR to open, or a command: {', '.join(COMMAND_NAMES)})"
        )
    if args.protocol is not None:
        from mrecist_reader.core.errors import InvalidProfile
        from mrecist_reader.resources import load_profile

        try:
            load_profile(args.protocol)
        except (OSError, InvalidProfile) as error:
            return f"--protocol: {error}"
    return None


def _dispatch(argv: list[str]) -> int:
    if _is_gui_invocation(argv):
        args = build_gui_parser().parse_args(argv)
        problem = _gui_input_problem(args)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        configure_logging(kind="gui", verbosity=args.verbose)
        from mrecist_reader.ui.app import run_gui

        return run_gui(args.path, db_url=args.db, protocol=args.protocol)
    args = build_parser().parse_args(argv)
    configure_logging(kind="cli", verbosity=args.verbose)
    return _run_guarded(args)


def _run_guarded(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
    except MrecistError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    except BrokenPipeError:
        raise
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        # The traceback is for developers (-vv); the user gets one line.
        logger.debug("internal error in %s", args.command, exc_info=True)
        print(
            f"internal error in '{args.command}': {type(error).__name__}: {error} "
            "(run with -vv for the details and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code
