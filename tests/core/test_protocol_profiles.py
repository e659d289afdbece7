"""mrecist-rules.md §Profiles: the shipped profiles and parse_profile()'s validation."""

import re
from pathlib import Path

import pytest

from mrecist_reader.core.errors import InvalidProfile
from mrecist_reader.core.model import Criteria
from mrecist_reader.core.protocol import ProtocolProfile, parse_profile
from mrecist_reader.resources import load_profile, resource_path

# The spec's table, column by column (lengths in tenths of a millimetre, None = "none").
COMMON = {
    "at_least_one_target_min": None,
    "max_targets_per_organ": 2,
    "max_targets_total": 5,
    "lymph_node_targets_allowed": False,
    "too_small_value": 50,
    "pd_min_absolute_increase": 0,
    "confirmation_required": False,
    "confirmation_max_ne_between": 1,
}
SPEC_TABLE = {
    "mrecist": {
        **COMMON,
        "target_min_baseline": 100,
        "target_max_baseline": None,
        "sd_min_days": 42,
    },
    "nct06779461": {
        **COMMON,
        "target_min_baseline": 300,
        "target_max_baseline": 1000,
        "sd_min_days": 28,
    },
}


@pytest.mark.parametrize("name", sorted(SPEC_TABLE))
def test_shipped_profile_holds_the_spec_table(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.criteria is Criteria.MRECIST
    assert {key: getattr(profile, key) for key in SPEC_TABLE[name]} == SPEC_TABLE[name]
    assert profile.description


def shipped_text() -> str:
    return resource_path("protocols", "nct06779461.toml").read_text(encoding="utf-8")


def replace_line(text: str, key: str, new_line: str) -> str:
    return re.sub(rf"(?m)^{key} = .*$", new_line, text)


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidProfile) as error:
        parse_profile(text, "test.toml")
    return [p.message for p in error.value.problems]


def test_every_problem_is_reported_at_once() -> None:
    text = replace_line(shipped_text(), "sd_min_days", 'sd_min_days = "28"')
    text = replace_line(text, "max_targets_total", "max_targets_total = 0")
    text = replace_line(
        text, "target_min_baseline_mm", "target_min_baseline_mm = 30.05"
    )
    text = replace_line(text, "confirmation_required", "confirmation_required = 1")
    text = text.replace('criteria = "mRECIST"', "") + "\ncolour = 'red'\n"
    found = problems(text)
    assert len(found) == 6
    assert found[0].startswith("colour: unknown setting")
    assert "criteria: missing (required)" in found
    assert any(m.startswith("sd_min_days: '28' is not a whole number") for m in found)
    assert any(
        m.startswith("max_targets_total: 0 is outside the allowed range") for m in found
    )
    assert any(
        m.startswith("target_min_baseline_mm: 30.05 is not millimetres") for m in found
    )
    assert "confirmation_required: 1 is not true or false" in found


def test_settings_that_contradict_each_other_are_refused() -> None:
    text = replace_line(
        shipped_text(), "target_max_baseline_mm", "target_max_baseline_mm = 20.0"
    )
    text = replace_line(text, "confirmation_required", "confirmation_required = true")
    assert problems(text) == [
        "target_max_baseline_mm: is smaller than target_min_baseline_mm",
        "confirmation_interval_days: must be set when confirmation_required is true",
    ]


def test_schema_version_other_than_1_is_refused() -> None:
    text = replace_line(shipped_text(), "schema_version", "schema_version = 2")
    assert problems(text) == [
        "schema_version: 2 is outside the allowed range: a whole number from 1 to 1"
    ]


def test_toml_syntax_error_names_the_source() -> None:
    with pytest.raises(
        InvalidProfile, match=r"^test\.toml: invalid protocol profile: not valid TOML"
    ):
        parse_profile("name = ", "test.toml")


def test_a_sponsor_profile_with_the_at_least_one_rule_parses(tmp_path: Path) -> None:
    text = replace_line(
        shipped_text(), "target_min_baseline_mm", "target_min_baseline_mm = 10.0"
    )
    text = replace_line(
        text, "at_least_one_target_min_mm", "at_least_one_target_min_mm = 30.0"
    )
    text = replace_line(text, "name", 'name = "sponsor_reading"')
    path = tmp_path / "sponsor.toml"
    path.write_text(text, encoding="utf-8")
    profile = load_profile(str(path))
    assert isinstance(profile, ProtocolProfile)
    assert (
        profile.name,
        profile.target_min_baseline,
        profile.at_least_one_target_min,
    ) == (
        "sponsor_reading",
        100,
        300,
    )


def test_not_evaluable_timepoints_allowed_before_confirmation_default_to_1() -> None:
    text = re.sub(r"(?m)^confirmation_max_ne_between = .*\n", "", shipped_text())
    assert "confirmation_max_ne_between =" not in text
    assert parse_profile(text, "old.toml").confirmation_max_ne_between == 1


@pytest.mark.parametrize("allowed", [0, 2])
def test_a_profile_sets_the_not_evaluable_timepoints_allowed(allowed: int) -> None:
    text = replace_line(
        shipped_text(),
        "confirmation_max_ne_between",
        f"confirmation_max_ne_between = {allowed}",
    )
    assert parse_profile(text, "x.toml").confirmation_max_ne_between == allowed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "-1 is outside the allowed range: a whole number from 0 to 20"),
        ('"one"', "'one' is not a whole number from 0 to 20"),
        ("1.5", "1.5 is not a whole number from 0 to 20"),
    ],
)
def test_the_not_evaluable_allowance_is_a_small_whole_number(
    value: str, message: str
) -> None:
    text = replace_line(
        shipped_text(),
        "confirmation_max_ne_between",
        f"confirmation_max_ne_between = {value}",
    )
    assert problems(text) == [f"confirmation_max_ne_between: {message}"]


def test_the_trials_profile_lists_its_unblinding_words() -> None:
    """Issue 21 item 8: the arm and product names of NCT06779461."""
    words = load_profile("nct06779461").unblinding_words
    assert {"Mg", "magnesium", "microsphere", "arm"} <= set(words)
    assert load_profile("mrecist").unblinding_words == ()


def test_unblinding_words_may_be_left_out() -> None:
    text = re.sub(r"(?m)^unblinding_words = .*\n", "", shipped_text())
    assert "unblinding_words =" not in text
    assert parse_profile(text, "old.toml").unblinding_words == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"Mg"', "'Mg' is not a list of words"),
        ('["Mg", 3]', "3 is not a word"),
        ('["Mg", ""]', "'' is not a word"),
        ('["Mg", " arm"]', "' arm' is not a word"),
        ('["Mg", "arm+"]', "'arm+' is not a word"),
        ('["Mg", "mg"]', "'mg' is listed twice (case does not matter)"),
        (f'["{"x" * 65}"]', f"'{'x' * 65}' is not a word"),
        (
            "[" + ", ".join(f'"w{k}"' for k in range(201)) + "]",
            "201 words; at most 200",
        ),
    ],
)
def test_unblinding_words_are_validated_like_the_other_keys(
    value: str, message: str
) -> None:
    text = replace_line(
        shipped_text(), "unblinding_words", f"unblinding_words = {value}"
    )
    (problem,) = problems(text)
    assert problem.startswith(f"unblinding_words: {message}")


def test_unblinding_words_may_hold_a_phrase() -> None:
    text = replace_line(
        shipped_text(), "unblinding_words", 'unblinding_words = ["drug-eluting beads"]'
    )
    assert parse_profile(text, "x.toml").unblinding_words == ("drug-eluting beads",)
