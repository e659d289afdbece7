"""``mrecist-reader metrics [--db URL] [--reader ID] -o DIR``: reader metrics as CSV.

central-review.md §Reader metrics: writes ``reader_metrics.csv`` (long form: ``scope``,
``who``, ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``) and
``adjudication_pchart.csv`` (the monthly adjudication rate with its centre line and
3-sigma limits, months outside them flagged), both or neither. Refused (exit 1) when
the caller (``--reader``, else the settings' reader ID) is a primary reader of assigned
subjects. Rates are fractions with Clopper–Pearson 95 % intervals; Cohen's kappa (the
fixed 4 × 4 table CR, PR, SD, PD) and its asymptotic 95 % interval come from
statsmodels' ``cohens_kappa``; Bland–Altman differences are reader 1 − reader 2, limits
the mean ± 1.96 sample standard deviations. The adjudication trigger runs first.
"""

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrecist_reader.analysis.reader_metrics import (
    FIGURES_DIR,
    METRIC_COLUMNS,
    METRICS_FILE,
    PCHART_COLUMNS,
    PCHART_FILE,
    Row,
    bland_altman,
    kappas,
    metric_rows,
    pchart_rows,
    rate,
    write_figures,
)

if TYPE_CHECKING:
    from mrecist_reader.core.reader_metrics import SubjectDoubleRead
    from mrecist_reader.storage.repository import ReadRepository

__all__ = [
    "FIGURES_DIR",
    "METRICS_FILE",
    "PCHART_FILE",
    "add_parser",
    "bland_altman",
    "collect",
    "kappas",
    "metric_rows",
    "pchart_rows",
    "rate",
    "run",
    "write_figures",
]

logger = logging.getLogger(__name__)


def add_parser(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register the ``metrics`` command."""
    parser = subparsers.add_parser(
        "metrics",
        help="write the reader metrics of the double read (reader_metrics.csv)",
        description="Write reader_metrics.csv and adjudication_pchart.csv into DIR: "
        "adjudication rates, adjudicator agreement, Reader Disagreement Index, "
        "Cohen's kappa, best-response agreement and Bland-Altman limits.",
    )
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL (default: the settings' db_url)"
    )
    parser.add_argument(
        "--reader",
        metavar="ID",
        help="run as this reader (default: the settings' reader ID); refused for a "
        "primary reader of assigned subjects",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the metrics; return 0 (1: refused to a primary reader)."""
    from mrecist_reader.cli import database_url
    from mrecist_reader.cli.assign import run_trigger
    from mrecist_reader.settings import load_user_settings
    from mrecist_reader.storage.audit import current_os_user
    from mrecist_reader.storage.repository import ReadRepository, Viewer
    from mrecist_reader.transfer.atomic import atomic_write_all

    settings = load_user_settings()
    reader_id = settings.reader_id if args.reader is None else args.reader.strip()
    url = database_url(args.db, settings.db_url, must_exist=True)
    with ReadRepository(url) as repository:
        viewer = Viewer(reader_id, settings.read_type) if reader_id else None
        repository.adjudication_cases(viewer=viewer)  # refused to a primary reader
        run_trigger(repository, reader_id or "(metrics)", current_os_user())
        subjects = collect(repository)
    rows, chart = metric_rows(subjects), pchart_rows(subjects)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / METRICS_FILE, folder / PCHART_FILE]
    with atomic_write_all(paths) as (metrics_stream, chart_stream):
        metrics_stream.write(_csv(METRIC_COLUMNS, rows, METRIC_COLUMNS[3:]))
        chart_stream.write(_csv(PCHART_COLUMNS, chart, PCHART_COLUMNS[1:-1]))
    figures = write_figures(folder / FIGURES_DIR, subjects)
    print(
        f"wrote {len(rows)} metric(s) of {len(subjects)} subject(s) with both reads "
        f"signed to {folder} (figures: {', '.join(p.name for p in figures)})"
    )
    return 0


def collect(repository: "ReadRepository") -> "list[SubjectDoubleRead]":
    """Return every assigned subject with a read cut, assessed up to it."""
    from mrecist_reader.desk.review import subjects_with_cuts
    from mrecist_reader.resources import load_profile

    return subjects_with_cuts(
        repository.double_reads(),
        repository.adjudication_cases(),
        repository.profile_by_name(load_profile),
    )


def _csv(columns: Sequence[str], rows: Sequence[Row], numeric: Sequence[str]) -> str:
    """Return the CSV text; ``numeric`` columns (numbers we wrote) are left as they are."""
    import io

    from mrecist_reader.transfer.csv_out import write_rows

    stream = io.StringIO()
    write_rows(stream, columns, rows, numeric=numeric)
    return stream.getvalue()
