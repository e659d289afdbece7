"""The endpoints view in the application (issue 18 item 6): local reads only."""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.endpoints import (
    EndpointsHidden,
    desk_endpoints,
    may_show_endpoints,
)
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.csv_in import read_measurements

REPO = Path(__file__).resolve().parents[2]
TWO_SUBJECTS = REPO / "tests/data/measurements/nct06779461_central_two_subjects.csv"
PROFILE = load_profile("nct06779461")

if TYPE_CHECKING:
    from mrecist_reader.ui.endpoints_view import EndpointsView


@pytest.fixture
def treatments(tmp_path: Path) -> Path:
    path = tmp_path / "treatments.csv"
    path.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        "1,NCT06779461,S01,TACE,1,2\n1,NCT06779461,S02,TACE,1,1\n",
        encoding="utf-8",
    )
    return path


def test_only_a_local_reader_sees_endpoints() -> None:
    assert [may_show_endpoints(t) for t in (ReadType.LOCAL, ReadType.CENTRAL)] == [
        True,
        False,
    ]


def test_a_central_read_loads_no_file_at_all(tmp_path: Path) -> None:
    absent = tmp_path / "absent.csv"
    with pytest.raises(EndpointsHidden, match="blinded central read never sees them"):
        desk_endpoints((), absent, absent, read_type=ReadType.CENTRAL, profile=PROFILE)


def test_a_local_read_gets_the_pooled_endpoints(treatments: Path) -> None:
    reads = read_measurements(TWO_SUBJECTS, profile_for=load_profile)
    found = desk_endpoints(
        reads, treatments, None, read_type=ReadType.LOCAL, profile=PROFILE
    )
    pooled = {
        r.endpoint: (r.n, r.responders)
        for r in found.analysis.rates
        if (r.population, r.arm) == ("full", "all")
    }
    assert pooled["ORR30_last"] == (2, 1)


def cell(view: "EndpointsView", row: int, column: int) -> str:
    item = view.table.item(row, column)
    assert item is not None
    return item.text()


@pytest.mark.gui
def test_the_view_lists_every_endpoint_and_shows_the_waterfall(
    qtbot: QtBot, treatments: Path
) -> None:
    from mrecist_reader.ui.endpoints_view import EndpointsView

    reads = read_measurements(TWO_SUBJECTS, profile_for=load_profile)
    found = desk_endpoints(
        reads, treatments, None, read_type=ReadType.LOCAL, profile=PROFILE
    )
    view = EndpointsView(found)
    qtbot.addWidget(view)
    names = [cell(view, row, 0) for row in range(view.table.rowCount())]
    assert names == [d.name for d in found.analysis.definitions]
    assert cell(view, 0, 3) == "0.5000"
    assert view.canvas.figure.axes[0].get_title().startswith("Waterfall")
