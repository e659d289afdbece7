"""The review manager sees the trial endpoints of the final reads (issue 18 item 6).

central-review.md §Independence: a caller who is neither a primary reader nor an
adjudicator of assigned subjects (a review manager) gets everything; endpoints.md:
the endpoints come from the final reads. A primary reader or an adjudicator is refused
before treatments.csv or arms.csv is opened (arms.csv is unblinded, sponsor only).
"""

from pathlib import Path

import pytest

from mrecist_reader.desk.endpoints import EndpointsHidden
from mrecist_reader.desk.review import ReviewDesk
from mrecist_reader.storage.repository import ReadRepository
from tests.central_review.test_review_desk import repository  # noqa: F401


@pytest.fixture
def treatments(tmp_path: Path) -> Path:
    path = tmp_path / "treatments.csv"
    path.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        "1,NCT06779461,S01,TACE,1,2\n"
        "1,NCT06779461,S02,TACE,1,1\n"
        "1,NCT06779461,S03,TACE,1,1\n",
        encoding="utf-8",
    )
    return path


def test_the_review_manager_sees_the_endpoints_of_the_final_reads_only(
    repository: ReadRepository,  # noqa: F811
    treatments: Path,
) -> None:
    found = ReviewDesk(repository, "PM01").endpoints(treatments, None)
    # S01 awaits adjudication and S03 has no cut: only S02 has a final read
    with_scans = sorted(s for s, c in found.courses.items() if c.timepoints)
    assert with_scans == ["S02"]
    assert sorted(found.courses) == ["S01", "S02", "S03"]  # every treated subject
    assert found.analysis is not None


@pytest.mark.parametrize("reader", ["R01", "R02", "A01"])
def test_a_primary_reader_or_adjudicator_is_refused_before_any_file_is_opened(
    repository: ReadRepository,  # noqa: F811
    tmp_path: Path,
    reader: str,
) -> None:
    absent = tmp_path / "absent.csv"  # opening it would raise another error
    with pytest.raises(EndpointsHidden, match="never sees trial endpoints"):
        ReviewDesk(repository, reader).endpoints(absent, absent)


def test_without_assignments_nobody_is_a_review_manager(tmp_path: Path) -> None:
    with ReadRepository(f"sqlite:///{tmp_path}/reads.db") as empty:
        absent = tmp_path / "absent.csv"
        with pytest.raises(EndpointsHidden, match="no subject is assigned"):
            ReviewDesk(empty, "PM01").endpoints(absent, None)
