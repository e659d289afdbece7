"""Protocol profiles: the settings where the published criteria leave a choice.

See mrecist-rules.md §Profiles. Profiles are data files (``resources/protocols/*.toml``,
format described in ``resources/README.md``) parsed and validated by
:func:`parse_profile`.
"""

import hashlib
import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from mrecist_reader.core.endpoints import (
    Anchor,
    Basis,
    EndpointDefinition,
    EndpointKind,
)
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
    endpoints
        The trial's endpoints (``[[endpoint]]`` tables; endpoints.md §Endpoint
        definitions are data), in the profile's order; empty when it has none.
    control_arm
        The arm the others are compared with (``None``: not set).
    unblinding_words
        Words that would unblind a reader when a free-text DICOM description shows
        them (arm and product names, e.g. ``Mg``); matched case-insensitively as whole
        words (:func:`unblinding_word_in`). Empty when the profile lists none.
    text
        The TOML text it was parsed from, exactly (:func:`parse_profile`): what a read
        stores so that its responses never depend on a file outside the database
        (issue 21, item 3). Empty for a profile built in code. Not compared.

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
    endpoints: tuple[EndpointDefinition, ...] = ()
    control_arm: str | None = None
    unblinding_words: tuple[str, ...] = ()
    text: str = field(default="", compare=False, repr=False)

    @property
    def sha256(self) -> str:
        """Return the SHA-256 hex digest of :attr:`text` (:func:`profile_sha256`)."""
        return profile_sha256(self.text)


def profile_sha256(text: str) -> str:
    """Return the SHA-256 hex digest of a profile's TOML text (UTF-8), its stored key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAX_UNBLINDING_WORDS = 200
"""No profile lists more unblinding words (more is a pasted document, not a list)."""

MAX_UNBLINDING_WORD_LENGTH = 64
"""No unblinding word is longer (a DICOM description is at most 64 characters)."""


def unblinding_word_in(text: str, words: tuple[str, ...]) -> str | None:
    """Return the first of ``words`` that ``text`` contains as a whole word, else ``None``.

    Case-insensitive; a word is whole when no letter or digit touches it (``Mg`` is
    in ``TACE+Mg`` and ``ART_Mg`` but not in ``Mgr`` or ``Mg2``).
    """
    if not words or not text:
        return None
    match = unblinding_pattern(words).search(text)
    return (
        None
        if match is None
        else next(w for w in words if w.casefold() == match.group(0).casefold())
    )


_PATTERNS: dict[tuple[str, ...], "re.Pattern[str]"] = {}


def unblinding_pattern(words: tuple[str, ...]) -> "re.Pattern[str]":
    """Return the pattern matching any of ``words`` as a whole word, ignoring case."""
    pattern = _PATTERNS.get(words)
    if pattern is None:
        longest_first = sorted(words, key=len, reverse=True)
        alternatives = "|".join(re.escape(word) for word in longest_first)
        pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)
        _PATTERNS[words] = pattern
    return pattern


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
        "endpoint",
        "control_arm",
        "unblinding_words",
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
    return replace(profile, text=text)


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
        endpoints=_endpoints(checker),
        control_arm=_control_arm(checker),
        unblinding_words=_unblinding_words(checker),
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


# ------------------------------------------------------------------ endpoints
# endpoints.md §Endpoint definitions are data: optional ``[[endpoint]]`` tables.

_ENDPOINT_REQUIRED = (
    "name",
    "label",
    "kind",
    "basis",
    "anchor",
    "offset_days",
    "window_before_days",
    "window_after_days",
)
_ENDPOINT_KEYS = frozenset({*_ENDPOINT_REQUIRED, "primary"})
MAX_ENDPOINT_DAYS = 3650
"""No endpoint offset may exceed ten years (larger values are typing errors)."""


def _control_arm(checker: _Checker) -> str | None:
    value = checker.document.get("control_arm")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        checker.fail("control_arm", f"{value!r} is not an arm name (non-empty text)")
        return None
    return value


def _unblinding_words(checker: _Checker) -> tuple[str, ...]:
    key = "unblinding_words"
    value = checker.document.get(key, [])
    if not isinstance(value, list):
        checker.fail(key, f"{value!r} is not a list of words")
        return ()
    if len(value) > MAX_UNBLINDING_WORDS:
        checker.fail(key, f"{len(value)} words; at most {MAX_UNBLINDING_WORDS}")
        return ()
    words: list[str] = []
    seen: set[str] = set()
    for word in value:
        if (
            not isinstance(word, str)
            or not word
            or len(word) > MAX_UNBLINDING_WORD_LENGTH
            or not (word[0].isalnum() and word[-1].isalnum())
            or not word.isprintable()
        ):
            checker.fail(
                key,
                f"{word!r} is not a word (text of 1 to {MAX_UNBLINDING_WORD_LENGTH} "
                "printable characters starting and ending with a letter or digit)",
            )
            continue
        if word.casefold() in seen:
            checker.fail(key, f"{word!r} is listed twice (case does not matter)")
            continue
        seen.add(word.casefold())
        words.append(word)
    return tuple(words)


def _endpoints(checker: _Checker) -> tuple[EndpointDefinition, ...]:
    """Read and check every ``[[endpoint]]`` table, reporting each problem."""
    tables = checker.document.get("endpoint", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        checker.fail("endpoint", "must be tables written [[endpoint]]")
        return ()
    endpoints: list[EndpointDefinition] = []
    for number, table in enumerate(tables, start=1):
        endpoint = _endpoint(checker, table, f"endpoint {number}")
        if endpoint is not None:
            endpoints.append(endpoint)
    names = [e.name for e in endpoints]
    for name in sorted({n for n in names if names.count(n) > 1}):
        checker.fail("endpoint", f"the name {name!r} is used more than once")
    primaries = [e.name for e in endpoints if e.primary]
    if len(endpoints) == len(tables) and tables and len(primaries) != 1:
        listed = ", ".join(primaries) or "none"
        checker.fail(
            "endpoint",
            f"exactly one endpoint must have primary = true (found: {listed})",
        )
    return tuple(endpoints)


def _endpoint(
    outer: _Checker, table: dict[str, Any], where: str
) -> EndpointDefinition | None:
    checker = _Checker(table)
    for key in _ENDPOINT_REQUIRED:
        if key not in table:
            checker.fail(key, "missing (required)")
    for key in sorted(set(table) - _ENDPOINT_KEYS):
        checker.fail(
            key, f"unknown setting (known: {', '.join(sorted(_ENDPOINT_KEYS))})"
        )
    name = (
        checker.text("name", required_value=_is_profile_name) if "name" in table else ""
    )
    kind = _choice(checker, table, "kind", EndpointKind)
    basis = _choice(checker, table, "basis", Basis)
    anchor = _choice(checker, table, "anchor", Anchor)
    days = {
        key: checker.integer(key, low=low, high=high) if key in table else None
        for key, low, high in (
            ("offset_days", 0, MAX_ENDPOINT_DAYS),
            ("window_before_days", 0, 365),
            ("window_after_days", 0, 365),
        )
    }
    primary = checker.boolean("primary") if "primary" in table else False
    label = checker.text("label") if "label" in table else ""
    label_of = f"{where} ({name})" if name else where
    for problem in checker.problems:
        outer.fail(f"{label_of}: {problem.field}", problem.message.split(": ", 1)[1])
    if checker.problems or kind is None or basis is None or anchor is None:
        return None
    return EndpointDefinition(
        name=name,
        label=label,
        kind=kind,
        basis=basis,
        anchor=anchor,
        offset_days=days["offset_days"] or 0,
        window_before_days=days["window_before_days"] or 0,
        window_after_days=days["window_after_days"] or 0,
        primary=primary,
    )


_Choice = TypeVar("_Choice", EndpointKind, Basis, Anchor)


def _choice(
    checker: _Checker, table: dict[str, Any], key: str, enum: type[_Choice]
) -> _Choice | None:
    if key not in table:
        return None
    value = table[key]
    allowed = {str(member) for member in enum}
    if not isinstance(value, str) or value not in allowed:
        checker.fail(key, f"{value!r} is not one of: {', '.join(sorted(allowed))}")
        return None
    return enum(value)
