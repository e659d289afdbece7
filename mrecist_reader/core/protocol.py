"""Protocol profiles: the settings where the published criteria leave a choice.

See mrecist-rules.md §Profiles. Profiles are data files (``resources/protocols/*.toml``,
format described in ``resources/README.md``) parsed and validated by
:func:`parse_profile`.
"""

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mrecist_reader.core.errors import InvalidProfile, Problem
from mrecist_reader.core.model import Criteria
from mrecist_reader.core.units import Tenths, from_mm

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""The only profile schema version this release reads."""

NONE_TOKEN = "none"
"""The value of an optional setting that does not apply (TOML has no null)."""

MAX_LENGTH_MM = 1000
"""No length setting may exceed this (1 m): larger values are typing errors."""

DEFAULT_CONFIRMATION_MAX_NE_BETWEEN = 1
"""Not-evaluable timepoints allowed between a CR/PR and its confirmation when a profile
does not say (mrecist-rules.md §Profiles)."""

OPTIONAL_KEYS = {"confirmation_max_ne_between": DEFAULT_CONFIRMATION_MAX_NE_BETWEEN}
"""Keys a profile may leave out (added after schema version 1 was published), with
the value that then applies."""


@dataclass(frozen=True, slots=True)
class ProtocolProfile:
    """A validated protocol profile; every length in tenths of a millimetre.

    Attributes
    ----------
    name
        The profile's name as exported in ``protocol_profile`` (e.g. ``nct06779461``).
    target_min_baseline
        Every target's minimum viable diameter at baseline (inclusive).
    target_max_baseline
        Every target's maximum viable diameter at baseline (inclusive), or ``None``.
    at_least_one_target_min
        At least one target must reach this baseline diameter, or ``None``.
    max_targets_per_organ, max_targets_total
        Target limits (lymph nodes together count as one organ).
    lymph_node_targets_allowed
        Whether lymph nodes may be targets.
    node_min_short_axis
        Minimum short axis of a node target at baseline, when nodes are allowed.
    too_small_value
        The value recorded for ``too_small``.
    pd_min_absolute_increase
        PD also needs a sum increase over the nadir of at least this much.
    confirmation_required, confirmation_interval_days
        Whether CR/PR need confirmation, and after how many days at least.
    confirmation_max_ne_between
        How many not-evaluable timepoints may lie between a CR/PR and the timepoint
        that confirms it (mrecist-rules.md §Across timepoints; RECIST 1.1 and the
        default: 1).
    sd_min_days
        Minimum days from baseline for SD to count as best response.

    """

    name: str
    criteria: Criteria
    target_min_baseline: Tenths
    target_max_baseline: Tenths | None
    at_least_one_target_min: Tenths | None
    max_targets_per_organ: int
    max_targets_total: int
    lymph_node_targets_allowed: bool
    node_min_short_axis: Tenths | None
    too_small_value: Tenths
    pd_min_absolute_increase: Tenths
    confirmation_required: bool
    confirmation_interval_days: int | None
    sd_min_days: int
    description: str = ""
    confirmation_max_ne_between: int = 1


class _Checker:
    """Collects every problem of one profile document while reading its fields."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(f"{key}: {message}", field=key))

    def _get(self, key: str, *, optional: bool) -> Any:
        if key not in self.document and key in OPTIONAL_KEYS:
            return OPTIONAL_KEYS[key]
        if key not in self.document:
            self.fail(key, "missing (required)")
            return None
        value = self.document[key]
        if optional and value == NONE_TOKEN:
            return None
        return value

    def text(
        self, key: str, *, required_value: Callable[[str], bool] | None = None
    ) -> str:
        value = self._get(key, optional=False)
        if value is None:
            return ""
        if not isinstance(value, str) or (required_value and not required_value(value)):
            self.fail(key, f"{value!r} is not allowed here")
            return ""
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key, optional=False)
        if value is not None and not isinstance(value, bool):
            self.fail(key, f"{value!r} is not true or false")
            return False
        return bool(value)

    def integer(
        self, key: str, *, low: int, high: int, optional: bool = False
    ) -> int | None:
        value = self._get(key, optional=optional)
        if value is None:
            return None
        allowed = f"a whole number from {low} to {high}" + (
            f' or "{NONE_TOKEN}"' if optional else ""
        )
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"{value!r} is not {allowed}")
            return None
        if not low <= value <= high:
            self.fail(key, f"{value} is outside the allowed range: {allowed}")
            return None
        return value

    def length(
        self, key: str, *, positive: bool, optional: bool = False
    ) -> Tenths | None:
        value = self._get(key, optional=optional)
        if value is None:
            return None
        low = "0.1" if positive else "0.0"
        allowed = (
            f"millimetres with at most one decimal, {low} to {MAX_LENGTH_MM}.0"
            + (f' or "{NONE_TOKEN}"' if optional else "")
        )
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"{value!r} is not {allowed}")
            return None
        exact = Decimal(repr(value))
        tenths = from_mm(exact)
        if (
            exact * 10 != tenths
            or not (1 if positive else 0) <= tenths <= 10 * MAX_LENGTH_MM
        ):
            self.fail(key, f"{value} is not {allowed}")
            return None
        return tenths


_KNOWN_KEYS = frozenset(
    {
        "schema_version",
        "name",
        "criteria",
        "description",
        "target_min_baseline_mm",
        "target_max_baseline_mm",
        "at_least_one_target_min_mm",
        "max_targets_per_organ",
        "max_targets_total",
        "lymph_node_targets_allowed",
        "node_min_short_axis_mm",
        "too_small_value_mm",
        "pd_min_absolute_increase_mm",
        "confirmation_required",
        "confirmation_interval_days",
        "confirmation_max_ne_between",
        "sd_min_days",
    }
)


def parse_profile(text: str, source: str = "<profile>") -> ProtocolProfile:
    """Parse and validate a protocol profile written in TOML.

    Parameters
    ----------
    text
        The TOML document (format: ``resources/README.md``).
    source
        Where the text came from, for messages (a file path or a profile name).

    Returns
    -------
    ProtocolProfile
        The validated profile; lengths converted to tenths of a millimetre.

    Raises
    ------
    InvalidProfile
        Listing every problem at once: TOML syntax, missing or unknown keys, wrong types,
        values out of range and settings that contradict each other.

    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidProfile(source, [Problem(f"not valid TOML: {error}")]) from error
    checker = _Checker(document)
    for key in sorted(set(document) - _KNOWN_KEYS):
        checker.fail(key, f"unknown setting (known: {', '.join(sorted(_KNOWN_KEYS))})")
    profile = _build(checker)
    if checker.problems:
        raise InvalidProfile(source, checker.problems)
    logger.debug("parsed protocol profile %s from %s", profile.name, source)
    return profile


def _build(checker: _Checker) -> ProtocolProfile:
    checker.integer("schema_version", low=SCHEMA_VERSION, high=SCHEMA_VERSION)
    criteria_text = checker.text(
        "criteria", required_value=lambda v: v in {str(c) for c in Criteria}
    )
    profile = ProtocolProfile(
        name=checker.text("name", required_value=_is_profile_name),
        criteria=Criteria(criteria_text) if criteria_text else Criteria.MRECIST,
        description=checker.text("description"),
        target_min_baseline=checker.length("target_min_baseline_mm", positive=True)
        or 0,
        target_max_baseline=checker.length(
            "target_max_baseline_mm", positive=True, optional=True
        ),
        at_least_one_target_min=checker.length(
            "at_least_one_target_min_mm", positive=True, optional=True
        ),
        max_targets_per_organ=checker.integer("max_targets_per_organ", low=1, high=10)
        or 0,
        max_targets_total=checker.integer("max_targets_total", low=1, high=20) or 0,
        lymph_node_targets_allowed=checker.boolean("lymph_node_targets_allowed"),
        node_min_short_axis=checker.length(
            "node_min_short_axis_mm", positive=True, optional=True
        ),
        too_small_value=checker.length("too_small_value_mm", positive=True) or 0,
        pd_min_absolute_increase=checker.length(
            "pd_min_absolute_increase_mm", positive=False
        )
        or 0,
        confirmation_required=checker.boolean("confirmation_required"),
        confirmation_interval_days=checker.integer(
            "confirmation_interval_days", low=1, high=365, optional=True
        ),
        confirmation_max_ne_between=checker.integer(
            "confirmation_max_ne_between", low=0, high=20
        )
        or 0,
        sd_min_days=checker.integer("sd_min_days", low=0, high=365) or 0,
    )
    _check_consistency(checker, profile)
    return profile


def _is_profile_name(value: str) -> bool:
    return bool(value) and all(
        c.isascii() and (c.isalnum() or c in "_-.") for c in value
    )


def _check_consistency(checker: _Checker, profile: ProtocolProfile) -> None:
    """Report settings that contradict each other (only once each is valid alone)."""
    low, high = profile.target_min_baseline, profile.target_max_baseline
    if low and high is not None and high < low:
        checker.fail("target_max_baseline_mm", "is smaller than target_min_baseline_mm")
    at_least = profile.at_least_one_target_min
    if low and at_least is not None and at_least < low:
        checker.fail(
            "at_least_one_target_min_mm", "is smaller than target_min_baseline_mm"
        )
    if profile.max_targets_per_organ > profile.max_targets_total > 0:
        checker.fail("max_targets_per_organ", "is larger than max_targets_total")
    if profile.lymph_node_targets_allowed and profile.node_min_short_axis is None:
        checker.fail(
            "node_min_short_axis_mm",
            "must be set when lymph_node_targets_allowed is true",
        )
    if profile.confirmation_required and profile.confirmation_interval_days is None:
        checker.fail(
            "confirmation_interval_days",
            "must be set when confirmation_required is true",
        )
