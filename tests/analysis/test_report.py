"""report.pdf (endpoints.md §Outputs): title page, tables, figures, listing."""

import math
from pathlib import Path

import pytest

from mrecist_reader.analysis import report
from mrecist_reader.analysis.figures import all_figures
from mrecist_reader.analysis.report import InputFile, ReportTitle, write_report
from mrecist_reader.analysis.summary import EndpointAnalysis, analyse
from mrecist_reader.core.endpoints import (
    ArmAssignment,
    ScanResponse,
    SubjectCourse,
    Treatment,
    with_sensitivity,
)
from mrecist_reader.core.model import Response
from mrecist_reader.resources import load_profile


@pytest.fixture(scope="module")
def analysed() -> tuple[dict[str, SubjectCourse], EndpointAnalysis]:
    courses = {}
    for n in range(1, 13):
        subject = f"S{n:02d}"
        scans = [ScanResponse(0, "BASELINE", 0, None, None)]
        for i, response in enumerate((Response.PR, Response.SD, Response.PD), 1):
            scans.append(ScanResponse(i, f"FU{i}", 30 * i + n % 3, response, response))
        courses[subject] = SubjectCourse(subject, tuple(scans), (Treatment(1, 2),))
    courses["S13"] = SubjectCourse(
        "S13", (ScanResponse(0, "BASELINE", 0, None, None),), (Treatment(1, 2),)
    )  # no follow-up: every endpoint missing, with a long reason
    arms = {
        s: ArmAssignment(s, "TACE" if int(s[1:]) % 2 else "TACE+X") for s in courses
    }
    profile = load_profile("nct06779461")
    analysis = analyse(
        courses, with_sensitivity(profile.endpoints), sd_min_days=28, arms=arms,
        control_arm="TACE",
    )  # fmt: skip
    return courses, analysis


TITLE = ReportTitle(
    study_id="NCT06779461",
    protocol="nct06779461",
    protocol_description="test",
    data_cut="2026-12-01",
    software_version="0",
    created="2026-12-01T00:00:00Z",
    inputs=(InputFile("responses", "responses.csv", "ab" * 32),),
)


def test_the_report_has_a_page_per_table_part_figure_and_listing_part(
    analysed: tuple[dict[str, SubjectCourse], EndpointAnalysis], tmp_path: Path
) -> None:
    courses, analysis = analysed
    figures = all_figures(courses, analysis)
    pages = write_report(tmp_path / "report.pdf", TITLE, analysis, figures)
    listing = report._listing_pages(analysis, report.rows_per_page(report.LISTING_SIZE))
    summary = len(report._summary_rows(analysis.rates))
    assert pages == (
        1
        + math.ceil(summary / report.rows_per_page(report.SUMMARY_SIZE))
        + len(figures)
        + len(listing)
    )
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_the_title_page_names_every_input_with_its_sha256(
    analysed: tuple[dict[str, SubjectCourse], EndpointAnalysis],
) -> None:
    rows = report._title_rows(TITLE, analysed[1])
    assert ["responses", "responses.csv"] in rows
    assert ["", "ab" * 32] in rows


def test_a_long_reason_wraps_onto_the_next_listing_line(
    analysed: tuple[dict[str, SubjectCourse], EndpointAnalysis],
) -> None:
    records = report._listing_records(analysed[1])
    continued = [record for record in records if len(record) > 1]
    assert continued
    assert all(not line[0] for record in continued for line in record[1:])
    assert all(len(line[-1]) <= report.REASON_WIDTH for r in records for line in r)


def test_a_listing_page_never_starts_with_the_end_of_a_reason(
    analysed: tuple[dict[str, SubjectCourse], EndpointAnalysis],
) -> None:
    pages = report._listing_pages(analysed[1], per_page=7)
    assert all(page[0][0] for page in pages)
    assert all(len(page) <= 7 for page in pages)


def test_a_table_never_runs_into_the_footer() -> None:
    lowest = (
        report.TABLE_TOP * report.A4_LANDSCAPE[1] * 72
        - (report.rows_per_page(report.LISTING_SIZE) + 1)
        * report.LISTING_SIZE
        * report.LINE_PITCH
    )
    assert lowest >= report.TABLE_BOTTOM_PT
