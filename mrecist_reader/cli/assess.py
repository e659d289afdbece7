"""``mrecist-reader assess``: recompute responses.csv from a measurements.csv.

Without ``--protocol`` each read's ``protocol_profile`` column names the profile: a
shipped profile's name only, never a file (a path in the CSV is refused with its
``FILE:LINE`` and never opened: issue 21, item 3). A
file of the second version may hold final reads (``read_role`` ``final``): each is
assessed as a read of its own, never mixed with its source read, and its responses
keep the role. Exit
status: 0 written; 1 the file is invalid (every problem on stderr as ``FILE:LINE:
message``, nothing written); 2 usage error or unreadable file.
"""

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrecist_reader.core.protocol import ProtocolProfile

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mrecist_reader.core.assess import Assessment
    from mrecist_reader.transfer.csv_out import RoleRead

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register ``assess`` and its options."""
    parser = subparsers.add_parser(
        "assess",
        help="recompute responses.csv from measurements.csv with the rules engine",
        description="Recompute responses.csv from MEASUREMENTS.csv with the rules "
        "engine (stdout when no -o). Exit status 0 ok, 1 invalid input (each problem as "
        "FILE:LINE: message, nothing written), 2 usage error or unreadable file.",
    )
    parser.add_argument("measurements", type=Path, metavar="MEASUREMENTS.csv")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="RESPONSES.csv", help="file to write"
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME_OR_FILE",
        help="protocol profile for every read (a shipped name or a .toml file); "
        "default: each read's protocol_profile column",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read, validate and assess every read, then write responses.csv.

    Returns
    -------
    int
        0 on success, 1 when the measurements are invalid, 2 when a file or profile
        cannot be read or the output cannot be written.

    """
    from mrecist_reader.core.assess import assess
    from mrecist_reader.core.errors import InvalidProfile
    from mrecist_reader.resources import ProfileResolver, load_profile

    output: Path | None = args.output
    unusable = None if output is None else _output_problem(output, args.measurements)
    if unusable is not None:
        print(f"error: -o: {unusable}", file=sys.stderr)
        return 2
    try:
        fixed = load_profile(args.protocol) if args.protocol else None
    except (OSError, InvalidProfile) as error:
        print(f"error: --protocol: {error}", file=sys.stderr)
        return 2
    resolver = ProfileResolver(fixed, args.protocol, lambda _name: ())

    def profile_for(name: str) -> ProtocolProfile:
        return fixed if fixed is not None else resolver(name)

    reads = _read(args.measurements, profile_for)
    if isinstance(reads, int):
        return reads
    if fixed is not None:  # protocol_profile names "the rule profile used"
        reads = tuple(
            replace(item, read=replace(item.read, protocol_profile=fixed.name))
            for item in reads
        )
    assessed = [
        (item, assess(item.read, profile_for(item.read.protocol_profile)))
        for item in reads
    ]
    code = _write(output, assessed)
    logger.info("assessed %d read(s)", len(reads))
    return code


def _read(
    source: Path, profile_for: "Callable[[str], ProtocolProfile]"
) -> "tuple[RoleRead, ...] | int":
    """Return the reads of a measurements.csv, or the exit status after reporting."""
    from mrecist_reader.core.errors import InvalidRead
    from mrecist_reader.transfer import csv_in

    try:
        return csv_in.read_measurements_with_roles(source, profile_for=profile_for)
    except InvalidRead as invalid:
        for problem in invalid.problems:
            print(csv_in.format_problem(source, problem), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {_describe(source, error)}", file=sys.stderr)
        return 2


def _write(
    output: Path | None, assessed: "Sequence[tuple[RoleRead, Assessment]]"
) -> int:
    """Write responses.csv to ``output`` (stdout when ``None``); return the exit status."""
    from mrecist_reader.transfer import csv_out
    from mrecist_reader.transfer.columns import RESPONSE_COLUMNS

    if output is None:
        rows = csv_out.rows_for_responses(assessed)
        try:
            csv_out.write_rows(sys.stdout, RESPONSE_COLUMNS, rows)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. `| head`: the reader has all it wanted
            _silence_stdout()
        return 0
    try:
        csv_out.write_responses(output, assessed)
    except OSError as error:
        print(f"error: {_describe(output, error)}", file=sys.stderr)
        return 2
    return 0


def _silence_stdout() -> None:
    """Point stdout at the null device so that the exit flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _output_problem(output: Path, source: Path) -> str | None:
    """Say why ``-o`` cannot be written, before any work is done (``None``: fine)."""
    if output.is_dir():
        return f"{output}: is a folder, expected the responses.csv file to write"
    if _same_file(output, source):
        return (
            f"{output}: is the measurements file being read; writing responses.csv "
            "over it would destroy it (choose another file)"
        )
    folder = output.parent
    if not folder.is_dir():
        return f"{output}: the folder {folder} does not exist"
    return None


def _same_file(output: Path, source: Path) -> bool:
    """Return whether ``output`` names the file ``source`` (through links and ``..``)."""
    try:
        return output.exists() and os.path.samefile(output, source)
    except OSError:
        return output.resolve() == source.resolve()


def _describe(path: Path, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(error, IsADirectoryError):
        return f"{path}: is a folder, expected a measurements.csv file"
    if isinstance(error, PermissionError):
        return f"{path}: permission denied"
    if error.strerror:
        return f"{path}: {error.strerror}"
    return str(error)
