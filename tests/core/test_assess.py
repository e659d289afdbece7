"""assess(): sums, exact percentages, reasons, and properties that must always hold."""

from dataclasses import replace
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from mrecist_reader.core.assess import assess
from mrecist_reader.core.model import Response
from tests.kit.reads import GENERIC, NCT, build_read


def test_percent_changes_are_exact_fractions() -> None:
    row = assess(build_read({"T1": [30.0, 20.0]}), NCT).timepoints[1]
    assert row.change_from_baseline_pct == Fraction(-100, 3)
    assert isinstance(row.change_from_nadir_pct, Fraction)


def test_every_follow_up_row_explains_each_decision() -> None:
    read = build_read({"T1": [50.0, 30.0]}, non_targets={"NT1": ["present", "present"]})
    row = assess(read, NCT).timepoints[1]
    assert row.reasons == (
        "sum 30.0 mm is 40.0 % below the baseline 50.0 mm: PR",
        "enhancement persists in NT1: IR_SD",
        "no new lesion: no",
        "target PR, non-target IR_SD, new lesions no: overall PR",
    )


def test_a_missing_target_measurement_is_not_evaluable_and_says_so() -> None:
    row = assess(build_read({"T1": [50.0, 40.0], "T2": [30.0, None]}), NCT).timepoints[
        1
    ]
    assert row.target_response is Response.NE
    assert row.reasons[0] == "T2 has no usable measurement at FU1"


tenths = st.integers(min_value=1, max_value=2000)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.tuples(tenths, tenths, tenths), min_size=1, max_size=5),
    order=st.randoms(use_true_random=False),
)
def test_lesion_order_never_matters(
    sizes: list[tuple[int, int, int]], order: object
) -> None:
    targets = {f"T{i + 1}": [s / 10 for s in triple] for i, triple in enumerate(sizes)}
    read = build_read(targets, profile=GENERIC)
    shuffled_lesions = list(read.lesions)
    shuffled_observations = list(read.observations)
    order.shuffle(shuffled_lesions)  # type: ignore[attr-defined]
    order.shuffle(shuffled_observations)  # type: ignore[attr-defined]
    shuffled = replace(
        read, lesions=tuple(shuffled_lesions), observations=tuple(shuffled_observations)
    )
    assert assess(shuffled, GENERIC) == assess(read, GENERIC)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=5))
def test_sums_of_tenths_are_exact(values: list[int]) -> None:
    targets = {f"T{i + 1}": [50.0, v / 10] for i, v in enumerate(values)}
    row = assess(build_read(targets, profile=GENERIC), GENERIC).timepoints[1]
    assert row.target_sum == sum(values)
