"""Messages the reader sees say lesion types in words, never their CSV tokens."""

import pytest

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Organ
from mrecist_reader.desk.desk import ReadingDesk
from tests.desk.conftest import caliper_at


def test_measuring_a_non_target_is_refused_in_words(desk: ReadingDesk) -> None:
    lesion_id = desk.add_non_target(Organ.LUNG, "right lower lobe")
    with pytest.raises(MrecistError) as refused:
        desk.measure(lesion_id, caliper_at(desk, (0.0, 0.0, -20.0), 12.0))
    assert "is a non-target lesion" in str(refused.value)
    assert "non_target" not in str(refused.value)
