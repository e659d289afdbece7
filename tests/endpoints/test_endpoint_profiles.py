"""endpoints.md §Endpoint definitions are data: ``[[endpoint]]`` tables in profiles."""

import pytest

from mrecist_reader.core.endpoints import Anchor, Basis, EndpointKind
from mrecist_reader.core.errors import InvalidProfile
from mrecist_reader.core.protocol import parse_profile
from mrecist_reader.resources import load_profile, resource_path

GENERIC = resource_path("protocols", "mrecist.toml").read_text(encoding="utf-8")

ORR = """
[[endpoint]]
name = "ORR30_last"
label = "ORR"
kind = "objective"
basis = "target"
anchor = "last_treatment"
offset_days = 30
window_before_days = 7
window_after_days = 7
primary = true
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidProfile) as error:
        parse_profile(text, "test.toml")
    return [p.message for p in error.value.problems]


def test_the_trial_profile_carries_the_four_endpoints_of_the_registry() -> None:
    found = [
        (e.name, e.kind, e.basis, e.anchor, e.offset_days, e.window_before_days,
         e.window_after_days, e.primary)
        for e in load_profile("nct06779461").endpoints
    ]  # fmt: skip
    o, d, c = (
        EndpointKind.OBJECTIVE,
        EndpointKind.DISEASE_CONTROL,
        EndpointKind.COMPLETE,
    )
    last, first, t = Anchor.LAST_TREATMENT, Anchor.FIRST_TREATMENT, Basis.TARGET
    assert found == [
        ("ORR30_last", o, t, last, 30, 7, 7, True),
        ("ORR90_last", o, t, last, 90, 7, 7, False),
        ("DCR30_first", d, t, first, 30, 7, 7, False),
        ("CR30_first", c, t, first, 30, 7, 7, False),
    ]


def test_the_trial_profile_compares_with_the_tace_arm() -> None:
    assert load_profile("nct06779461").control_arm == "TACE"


def test_a_profile_without_endpoints_still_parses() -> None:
    profile = parse_profile(GENERIC)
    assert (profile.endpoints, profile.control_arm) == ((), None)


def test_endpoint_tables_in_double_bracket_form_parse() -> None:
    profile = parse_profile(GENERIC + ORR)
    assert [e.name for e in profile.endpoints] == ["ORR30_last"]


def test_every_endpoint_problem_is_reported_at_once() -> None:
    bad = (
        ORR.replace('kind = "objective"', 'kind = "partial"')
        .replace("offset_days = 30", "offset_days = -1")
        .replace('label = "ORR"\n', "colour = 1\n")
    )
    second = ORR.replace("primary = true", 'primary = "yes"').replace(
        'basis = "target"', 'basis = "both"'
    )
    found = problems(GENERIC + bad + second)
    assert found == [
        "endpoint 1 (ORR30_last): label: missing (required)",
        "endpoint 1 (ORR30_last): colour: unknown setting (known: anchor, basis, kind, "
        "label, name, offset_days, primary, window_after_days, window_before_days)",
        "endpoint 1 (ORR30_last): kind: 'partial' is not one of: complete, "
        "disease_control, objective",
        "endpoint 1 (ORR30_last): offset_days: -1 is outside the allowed range: a "
        "whole number from 0 to 3650",
        "endpoint 2 (ORR30_last): basis: 'both' is not one of: overall, target",
        "endpoint 2 (ORR30_last): primary: 'yes' is not true or false",
    ]


def test_exactly_one_endpoint_is_primary() -> None:
    two = GENERIC + ORR + ORR.replace("ORR30_last", "ORR90_last")
    assert problems(two) == [
        "endpoint: exactly one endpoint must have primary = true (found: ORR30_last, "
        "ORR90_last)"
    ]


def test_endpoint_names_are_unique() -> None:
    twice = GENERIC + ORR + ORR.replace("primary = true", "primary = false")
    assert problems(twice) == ["endpoint: the name 'ORR30_last' is used more than once"]


def test_control_arm_must_name_an_arm() -> None:
    text = GENERIC.replace("schema_version = 1", 'schema_version = 1\ncontrol_arm = ""')
    assert problems(text) == ["control_arm: '' is not an arm name (non-empty text)"]
