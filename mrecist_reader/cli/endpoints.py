"""``mrecist-reader endpoints``: the trial's endpoints, rates, figures and report.pdf.

Reads the final reads (``--db`` or ``--responses``), the sponsor's treatments.csv and
optionally arms.csv, derives every subject's endpoints (endpoints.md) and writes
``endpoint_subjects.csv``, ``endpoint_summary.csv``, ``figures/`` and ``report.pdf``
into DIR, all or nothing: everything is written into a temporary folder beside DIR that
then takes DIR's place. Exit status: 0 written; 1 an input is invalid (every problem as
``FILE:LINE: message``, nothing written); 2 usage error or unreadable input.
"""

import argparse
import hashlib
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrecist_reader.analysis.report import InputFile
    from mrecist_reader.core.endpoints import (
        ArmAssignment,
        ScanResponse,
        SubjectCourse,
        Treatment,
    )
    from mrecist_reader.core.protocol import ProtocolProfile

logger = logging.getLogger(__name__)

OUTPUT_NAMES = frozenset(
    {"endpoint_subjects.csv", "endpoint_summary.csv", "figures", "report.pdf"}
)
"""What DIR holds after a run: a folder with anything else is not replaced."""


class InputProblems(Exception):
    """Inputs were read but are invalid; ``lines`` are the messages to print."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class UnusableInput(Exception):
    """An input or the output cannot be used at all (exit status 2)."""


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register ``endpoints`` and its options."""
    parser = subparsers.add_parser(
        "endpoints",
        help="trial endpoints: per-subject responses, rates, figures, report.pdf",
        description="Derive the protocol's endpoints (endpoints.md) from the final "
        "reads and the sponsor's treatment days, and write endpoint_subjects.csv, "
        "endpoint_summary.csv, figures/ and report.pdf into DIR (all or nothing). "
        "Exit status 0 ok, 1 invalid input (each problem as FILE:LINE: message), "
        "2 usage error or unreadable input.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", metavar="URL", help="reads database (SQLAlchemy URL)")
    source.add_argument(
        "--responses", type=Path, metavar="FILE", help="responses.csv of the reads"
    )
    parser.add_argument(
        "--treatments", type=Path, required=True, metavar="FILE",
        help="treatments.csv (sponsor's treatment sessions)",
    )  # fmt: skip
    parser.add_argument(
        "--arms", type=Path, metavar="FILE",
        help="arms.csv (unblinded; without it every figure is pooled)",
    )  # fmt: skip
    parser.add_argument(
        "--protocol", metavar="NAME_OR_FILE",
        help="protocol profile with the endpoints (default: the reads' profile)",
    )  # fmt: skip
    parser.add_argument(
        "--control", metavar="ARM",
        help="the arm the others are compared with (default: the profile's control_arm)",
    )  # fmt: skip
    parser.add_argument(
        "--data-cut", metavar="DATE",
        help="data cut stated on the report's title page (default: today, UTC)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """Everything read, checked and ready for the analysis."""

    study_id: str
    profile: "ProtocolProfile"
    courses: "dict[str, SubjectCourse]"
    arms: "dict[str, ArmAssignment] | None"
    files: "tuple[InputFile, ...]"


def run(args: argparse.Namespace) -> int:
    """Read every input, analyse, and write the outputs; return the exit status."""
    try:
        _check_output(args.output)
        inputs = _read_inputs(args)
    except UnusableInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except InputProblems as problems:
        for line in problems.lines:
            print(line, file=sys.stderr)
        return 1
    return _analyse_and_write(args, inputs)


def _analyse_and_write(args: argparse.Namespace, inputs: _Inputs) -> int:
    from mrecist_reader.analysis.summary import AnalysisError, analyse
    from mrecist_reader.core.endpoints import with_sensitivity

    control = args.control or inputs.profile.control_arm
    try:
        analysis = analyse(
            inputs.courses,
            with_sensitivity(inputs.profile.endpoints),
            sd_min_days=inputs.profile.sd_min_days,
            arms=inputs.arms,
            control_arm=control if inputs.arms else None,
        )
    except AnalysisError as error:
        print(
            f"error: {'--control' if args.control else 'control_arm'}: {error}",
            file=sys.stderr,
        )
        return 1
    for warning in analysis.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with _replacing_folder(args.output) as folder:
        pages = _write_outputs(folder, args, inputs, analysis)
    print(
        f"wrote {args.output}: {len(analysis.full_set)} subjects in the full analysis "
        f"set, {len(analysis.definitions)} endpoints, report.pdf ({pages} pages)"
    )
    return 0


def _write_outputs(
    folder: Path, args: argparse.Namespace, inputs: _Inputs, analysis: Any
) -> int:
    from mrecist_reader import __version__
    from mrecist_reader.analysis.figures import all_figures
    from mrecist_reader.analysis.report import ReportTitle, write_report
    from mrecist_reader.analysis.summary import (
        SUBJECT_COLUMNS,
        SUMMARY_COLUMNS,
        rate_cells,
        subject_cells,
    )
    from mrecist_reader.transfer.endpoints_out import write_table

    write_table(
        folder / "endpoint_subjects.csv",
        SUBJECT_COLUMNS,
        (subject_cells(row) for row in analysis.subjects),
    )
    write_table(
        folder / "endpoint_summary.csv",
        SUMMARY_COLUMNS,
        (rate_cells(row) for row in analysis.rates),
    )
    figures = all_figures(inputs.courses, analysis)
    (folder / "figures").mkdir()
    for stem, figure in figures.items():
        figure.savefig(folder / "figures" / f"{stem}.png", dpi=100)
        figure.savefig(folder / "figures" / f"{stem}.svg", metadata={"Date": None})
    now = datetime.now(UTC)
    title = ReportTitle(
        study_id=inputs.study_id,
        protocol=inputs.profile.name,
        protocol_description=inputs.profile.description,
        data_cut=args.data_cut or now.date().isoformat(),
        software_version=__version__,
        created=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        inputs=inputs.files,
    )
    return write_report(folder / "report.pdf", title, analysis, figures)


def _check_output(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise UnusableInput(f"-o: {output} is a file, expected a folder to write")
    if output.is_dir():
        foreign = sorted(p.name for p in output.iterdir() if p.name not in OUTPUT_NAMES)
        if foreign:
            raise UnusableInput(
                f"-o: {output} holds other files ({', '.join(foreign[:3])}…): choose an "
                "empty or new folder (an earlier endpoints output is replaced)"
            )
    if not output.parent.resolve().is_dir():
        raise UnusableInput(f"-o: the folder {output.parent} does not exist")


@contextmanager
def _replacing_folder(output: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``output`` that replaces it when all is written."""
    parent = output.resolve().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=parent))
    try:
        yield staging
        staging.chmod(0o755)
        if output.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{output.name}.old.", dir=parent))
            output.rename(old / output.name)
            staging.rename(output)
            shutil.rmtree(old)
        else:
            staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_inputs(args: argparse.Namespace) -> _Inputs:
    """Read the reads, treatments and arms; report the problems of every file at once."""
    from mrecist_reader.analysis.report import InputFile

    problems: list[str] = []
    if args.responses is not None:
        study_id, profile_name, scans = _file_reads(args.responses, problems)
        files = [
            InputFile("responses", str(args.responses), _safe_hash(args.responses))
        ]
    else:
        study_id, profile_name, scans = _database_reads(
            args.db, args.protocol, problems
        )
        files = [InputFile("database", _shown_url(args.db), _database_hash(args.db))]
    treatments = _parsed(args.treatments, problems, "treatments")
    files.append(
        InputFile("treatments", str(args.treatments), _safe_hash(args.treatments))
    )
    arms = None
    if args.arms is not None:
        arms = _parsed(args.arms, problems, "arms")
        files.append(InputFile("arms", str(args.arms), _safe_hash(args.arms)))
    if problems:
        raise InputProblems(problems)
    profile, profile_file = _profile(args.protocol or profile_name or "nct06779461")
    files.append(InputFile("profile", str(profile_file), _safe_hash(profile_file)))
    return _Inputs(
        study_id=study_id,
        profile=profile,
        courses=_courses(scans, treatments or {}),
        arms=dict(arms) if arms is not None else None,
        files=tuple(files),
    )


def _safe_hash(path: Path) -> str:
    try:
        return _sha256(path)
    except OSError as error:
        raise UnusableInput(f"{path}: {error.strerror or error}") from error


def _parsed(path: Path, problems: list[str], kind: str) -> Any:
    from mrecist_reader.core.errors import InvalidRead
    from mrecist_reader.transfer.csv_in import format_problem
    from mrecist_reader.transfer.treatments import read_arms, read_treatments

    reader = read_treatments if kind == "treatments" else read_arms
    try:
        return reader(path)
    except InvalidRead as invalid:
        problems.extend(format_problem(path, p) for p in invalid.problems)
        return None
    except OSError as error:
        raise UnusableInput(_describe(path, error)) from error


def _file_reads(
    path: Path, problems: list[str]
) -> "tuple[str, str, dict[str, tuple[ScanResponse, ...]]]":
    from mrecist_reader.core.errors import InvalidRead
    from mrecist_reader.transfer.csv_in import format_problem
    from mrecist_reader.transfer.responses_in import read_responses

    try:
        reads = read_responses(path)
    except InvalidRead as invalid:
        problems.extend(format_problem(path, p) for p in invalid.problems)
        return "", "", {}
    except OSError as error:
        raise UnusableInput(_describe(path, error)) from error
    return reads.study_id, reads.protocol_profile, reads.subjects


def _database_reads(
    url: str, protocol: str | None, problems: list[str]
) -> "tuple[str, str, dict[str, tuple[ScanResponse, ...]]]":
    from mrecist_reader.cli import database_url
    from mrecist_reader.core.assess import assess
    from mrecist_reader.core.endpoints import scans_from_assessment
    from mrecist_reader.core.errors import InvalidProfile, InvalidRead, MrecistError
    from mrecist_reader.desk.export import database_reads
    from mrecist_reader.resources import load_profile
    from mrecist_reader.settings import load_user_settings

    try:
        reads = database_reads(  # each double-read subject's final read
            database_url(url, load_user_settings().db_url, must_exist=True),
            final=True,
        )
    except MrecistError as error:
        raise UnusableInput(str(error)) from error
    by_subject: dict[str, list[Any]] = {}
    for read in reads:
        by_subject.setdefault(read.key.subject_id, []).append(read)
    scans: dict[str, tuple[ScanResponse, ...]] = {}
    for subject_id, subject_reads in sorted(by_subject.items()):
        if len(subject_reads) > 1:
            names = ", ".join(
                f"{r.key.reader_id}/{r.key.read_type}" for r in subject_reads
            )
            problems.append(
                f"{url}: subject {subject_id} has {len(subject_reads)} reads ({names}); "
                "the endpoints need one final read per subject"
            )
            continue
        read = subject_reads[0]
        try:
            # the profile text stored with the read (issue 21, item 3), else by name
            stored = reads.profiles.get(read.key)
            profile = stored or load_profile(protocol or read.protocol_profile)
            scans[subject_id] = scans_from_assessment(read, assess(read, profile))
        except (OSError, InvalidProfile) as error:
            raise UnusableInput(f"--protocol: {error}") from error
        except InvalidRead as invalid:
            problems.extend(f"{url}: {p.message}" for p in invalid.problems)
    first = reads[0] if reads else None
    return (
        first.key.study_id if first else "",
        first.protocol_profile if first else "",
        scans,
    )


def _profile(name: str) -> "tuple[ProtocolProfile, Path]":
    from mrecist_reader.core.errors import InvalidProfile
    from mrecist_reader.resources import load_profile, resource_path

    try:
        profile = load_profile(name)
    except (OSError, InvalidProfile) as error:
        raise UnusableInput(f"--protocol: {error}") from error
    if not profile.endpoints:
        raise UnusableInput(
            f"--protocol: the profile {profile.name} defines no endpoints ([[endpoint]] "
            "tables; see resources/README.md)"
        )
    as_path = Path(name)
    path = as_path if as_path.is_file() else resource_path("protocols", f"{name}.toml")
    return profile, path


def _courses(
    scans: "dict[str, tuple[ScanResponse, ...]]",
    treatments: "dict[str, tuple[Treatment, ...]]",
) -> "dict[str, SubjectCourse]":
    from mrecist_reader.core.endpoints import SubjectCourse

    subjects = sorted({*scans, *treatments})
    return {
        s: SubjectCourse(s, scans.get(s, ()), treatments.get(s, ())) for s in subjects
    }


def _shown_url(url: str) -> str:
    """Return the URL without its password (never printed or written)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # shown as given; the repository refused it
        return url


def _database_hash(url: str) -> str:
    """Return the SHA-256 of an SQLite database file (other databases: not hashed)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database or ""
    path = Path(database)
    if make_url(url).get_backend_name() == "sqlite" and path.is_file():
        return _sha256(path)
    return "(server database: not hashed)"


def _describe(path: Path, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(error, IsADirectoryError):
        return f"{path}: is a folder, expected a CSV file"
    return f"{path}: {error.strerror or error}"
