"""An independent transcription of the response rules, used to check the real engine.

Written from ``shared/spec/mrecist-rules.md`` and ``shared/spec/data-transfer.md`` only,
without the engine's code: it takes the rows of a measurements.csv (dicts of strings) and
returns the rows of the responses.csv the spec demands (dicts of strings). Numbers are read
from their strings with :class:`~decimal.Decimal` and computed with
:class:`~fractions.Fraction`, so nothing passes through binary floating point. Each
function quotes the spec sentence it applies.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

RESPONSE_COLUMNS = (
    "schema_version",
    "study_id",
    "site_id",
    "subject_id",
    "reader_id",
    "read_type",
    "criteria",
    "protocol_profile",
    "timepoint",
    "timepoint_index",
    "scan_date",
    "study_day",
    "target_sum_mm",
    "baseline_sum_mm",
    "nadir_sum_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
    "progression_backdated_to",
    "best_response_to_date",
    "read_status",
    "signed_at",
    "software_version",
)
"""responses.csv columns in the order of data-transfer.md."""

COPIED_COLUMNS = (*RESPONSE_COLUMNS[:12], "read_status", "signed_at")
"""Columns "as above": copied from the timepoint's measurement rows."""


@dataclass(frozen=True)
class Profile:
    """The settings of mrecist-rules.md §Profiles that the response rules use."""

    target_min_mm: Fraction
    target_max_mm: Fraction | None
    per_organ: int
    total: int
    too_small_mm: Fraction
    pd_min_absolute_mm: Fraction
    sd_min_days: int
    confirmation_days: int | None = None
    """Minimum interval of confirmation; ``None``: confirmation not required."""
    ne_allowed_between: int = 1
    """"not-evaluable timepoints allowed between a CR/PR and its confirmation"."""


PROFILES = {
    "mrecist": Profile(Fraction(10), None, 2, 5, Fraction(5), Fraction(0), 42),
    "nct06779461": Profile(
        Fraction(30), Fraction(100), 2, 5, Fraction(5), Fraction(0), 28
    ),
    # Test profiles with confirmation (the differential test writes them as TOML).
    "confirm28": Profile(Fraction(10), None, 2, 5, Fraction(5), Fraction(0), 42, 28, 1),
    "confirm28_ne0": Profile(
        Fraction(10), None, 2, 5, Fraction(5), Fraction(0), 28, 28, 0
    ),
    "confirm56_ne2": Profile(
        Fraction(10), None, 2, 5, Fraction(5), Fraction(0), 35, 56, 2
    ),
}
"""The two shipped profiles, transcribed from the table of mrecist-rules.md, and three
test profiles that require confirmation."""


class Refused(Exception):
    """The input breaks a baseline rule: ``assess`` must exit 1 and write nothing."""


Row = Mapping[str, str]


def mm(text: str) -> Fraction:
    """Return a length cell as an exact fraction of millimetres."""
    return Fraction(Decimal(text))


def one_decimal(value: Fraction) -> str:
    """Format with one decimal, rounding half away from zero."""
    sign = "-" if value < 0 else ""
    tenths = int(abs(value) * 10 + Fraction(1, 2))  # half away from zero
    text = f"{tenths // 10}.{tenths % 10}"
    return f"{sign}{text}" if tenths else text


def percent(value: Fraction, reference: Fraction) -> Fraction:
    """Return ``(value - reference) / reference × 100``."""
    return (value - reference) / reference * 100


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class ReadRows:
    """The measurement rows of one read, by timepoint index."""

    profile: Profile
    profile_name: str
    by_timepoint: dict[int, list[Row]]

    def indices(self) -> list[int]:
        """Return the timepoint indices in chronological order."""
        return sorted(self.by_timepoint)

    def lesions(self, index: int, lesion_type: str) -> list[Row]:
        """Return the rows of one lesion type at one timepoint."""
        return [r for r in self.by_timepoint[index] if r["lesion_type"] == lesion_type]


def group_reads(rows: Iterable[Row]) -> dict[tuple[str, ...], list[Row]]:
    """Group rows by read: study, subject, reader, read type (file order kept)."""
    reads: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        key = (row["study_id"], row["subject_id"], row["reader_id"], row["read_type"])
        reads.setdefault(key, []).append(row)
    return reads


def check_baseline(read: ReadRows) -> None:
    """Refuse targets outside the range and beyond the per-organ / total limits.

    "The range check is inclusive at both ends: 30.0 and 100.0 are allowed, 29.9 and
    100.1 are not. It applies to the baseline viable diameter of each target lesion."
    """
    profile = read.profile
    targets = read.lesions(0, "target")
    for row in targets:
        if row["status"] != "measured":
            raise Refused(f"{row['lesion_id']}: baseline target not measured")
        value = mm(row["viable_diameter_mm"])
        too_big = profile.target_max_mm is not None and value > profile.target_max_mm
        if value < profile.target_min_mm or too_big:
            raise Refused(f"{row['lesion_id']}: {row['viable_diameter_mm']} mm")
        if row["organ"] == "lymph_node":
            raise Refused(f"{row['lesion_id']}: lymph-node target")
    if len(targets) > profile.total:
        raise Refused("too many targets")
    organs = [row["organ"] for row in targets]
    if any(organs.count(organ) > profile.per_organ for organ in organs):
        raise Refused("too many targets in one organ")


# --------------------------------------------------------------------------- targets


def target_value(row: Row, profile: Profile) -> Fraction | None:
    """Return a target's recorded value; ``None`` when ``not_evaluable``.

    "absent = 0.0, too_small = profile default".
    """
    status = row["status"]
    if status == "not_evaluable":
        return None
    if status == "absent":
        return Fraction(0)
    if status == "too_small":
        return profile.too_small_mm
    return mm(row["viable_diameter_mm"])


def target_sum(read: ReadRows, index: int) -> Fraction | None:
    """Return S, or ``None`` when any target is ``not_evaluable``."""
    values = [target_value(r, read.profile) for r in read.lesions(index, "target")]
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Fraction(0))


def evaluable_sum(read: ReadRows, index: int) -> Fraction:
    """Return the sum of the evaluable targets alone."""
    values = [target_value(r, read.profile) for r in read.lesions(index, "target")]
    return sum((v for v in values if v is not None), Fraction(0))


def nadir(read: ReadRows, index: int) -> Fraction | None:
    """Return N, or ``None`` if no earlier timepoint was evaluable.

    "the smallest S of any *earlier* timepoint at which every target was evaluable,
    baseline included (a timepoint with a `not_evaluable` target never sets the nadir)".
    """
    sums = [target_sum(read, i) for i in read.indices() if i < index]
    evaluable = [s for s in sums if s is not None]
    return min(evaluable) if evaluable else None


def meets_pd(s: Fraction, n: Fraction, profile: Profile) -> bool:
    """Apply the PD test of rule 2.

    "PD if S ≥ 1.2 × N and S − N ≥ the profile's absolute minimum; when N = 0, PD as
    soon as S > 0 and S ≥ that minimum".
    """
    if n == 0:
        return s > 0 and s >= profile.pd_min_absolute_mm
    return s >= Fraction(6, 5) * n and s - n >= profile.pd_min_absolute_mm


def target_response(read: ReadRows, index: int) -> str:
    """Apply rules 1–5 of §Target response in order."""
    n = nadir(read, index)
    assert n is not None  # the baseline is always evaluable
    s = target_sum(read, index)
    if s is None:
        return "PD" if meets_pd(evaluable_sum(read, index), n, read.profile) else "NE"
    if meets_pd(s, n, read.profile):
        return "PD"
    if all(r["status"] == "absent" for r in read.lesions(index, "target")):
        return "CR"
    b = target_sum(read, 0)
    assert b is not None
    if s <= Fraction(7, 10) * b:
        return "PR"
    return "SD"


# --------------------------------------------------------------------------- others


def non_target_response(read: ReadRows, index: int, previous_overall: str) -> str:
    """Apply §Non-target response, its list in order.

    "PD if the previous timepoint's overall response was CR and any non-target is
    `present` again" (``previous_overall`` is "" after the baseline).
    """
    if not read.lesions(0, "non_target"):
        return "NA"
    statuses = [r["status"] for r in read.lesions(index, "non_target")]
    if "progression" in statuses:
        return "PD"
    if previous_overall == "CR" and "present" in statuses:
        return "PD"
    if "not_evaluable" in statuses:
        return "NE"
    if all(s == "absent" for s in statuses):
        return "CR"
    return "IR_SD"


def new_lesions(read: ReadRows, index: int) -> str:
    """Summarise the new lesions.

    "`yes` if any new lesion is `present`, else `equivocal` if any is `equivocal`, else
    `no`".
    """
    statuses = [r["status"] for r in read.lesions(index, "new")]
    if "present" in statuses:
        return "yes"
    if "equivocal" in statuses:
        return "equivocal"
    return "no"


def backdated_to(read: ReadRows, index: int) -> str:
    """Return where the earliest lesion confirmed here was first seen (or "").

    "When a later timepoint marks the same lesion `present`, that timepoint is PD
    and its `progression_backdated_to` names the timepoint where the lesion was first
    seen (the earliest, when several are confirmed at once)".
    """
    first_seen: list[int] = []
    for row in read.lesions(index, "new"):
        if row["status"] != "present":
            continue
        earlier = [
            i
            for i in read.indices()
            if i < index
            and any(r["lesion_id"] == row["lesion_id"] for r in read.lesions(i, "new"))
        ]
        was_present = any(
            r["lesion_id"] == row["lesion_id"] and r["status"] == "present"
            for i in earlier
            for r in read.lesions(i, "new")
        )
        if earlier and not was_present:
            first_seen.append(min(earlier))
    if not first_seen:
        return ""
    return read.by_timepoint[min(first_seen)][0]["timepoint"]


def overall_response(target: str, non_target: str, new: str) -> str:
    """Apply the table of §Overall response at a timepoint."""
    if target == "PD" or non_target == "PD" or new == "yes":
        return "PD"
    if target == "CR":
        return "CR" if non_target in ("CR", "NA") else "PR"
    return target


def confirmed(
    position: int,
    sequence: Sequence[tuple[int | None, str]],
    profile: Profile,
) -> bool:
    """Whether the CR or PR at ``sequence[position]`` is confirmed.

    ``sequence`` holds ``(day, overall)`` of the follow-ups before the progression
    timepoint, then the progression timepoint as PD. "a CR at timepoint i is confirmed
    by the first later timepoint j at least the interval after i whose overall response
    is not NE, when that response is CR and every timepoint between i and j is CR or NE
    (at most the allowed number of NE). A PR is confirmed the same way by a PR or CR at
    j with only PR, CR or NE between."
    """
    assert profile.confirmation_days is not None
    day_i, response_i = sequence[position]
    accepted = {"CR"} if response_i == "CR" else {"CR", "PR"}
    if day_i is None:
        return False  # no later timepoint is known to be "at least the interval after"
    interval = profile.confirmation_days

    def far_enough(day: int | None) -> bool:
        return day is not None and day - day_i >= interval

    j = next(
        (
            k
            for k in range(position + 1, len(sequence))
            if sequence[k][1] != "NE" and far_enough(sequence[k][0])
        ),
        None,
    )
    if j is None or sequence[j][1] not in accepted:
        return False
    between = [overall for _, overall in sequence[position + 1 : j]]
    if any(overall not in accepted | {"NE"} for overall in between):
        return False
    return between.count("NE") <= profile.ne_allowed_between


def best_response_to_date(
    followups: Sequence[tuple[int, int | None, str, int | None]], profile: Profile
) -> str:
    """Return the best response from follow-ups ``(index, study_day, overall, backdated)``.

    ``backdated`` is the timepoint index named by the row's ``progression_backdated_to``.
    Progression timepoint: "the earliest timepoint that either has overall response PD
    or is named by some later timepoint's `progression_backdated_to`". Best response:
    "look at the follow-up timepoints *before* the progression timepoint (all of them
    when there is none). An SD timepoint counts only if it is at least the profile's SD
    minimum number of days after the **baseline scan** (study day ≥ minimum ...); an
    earlier one is ignored. The best response is the first of CR, PR, SD found among
    them; else PD if there is a progression timepoint; else NE." With confirmation:
    "The best confirmed response is the first of confirmed CR, confirmed PR, SD
    (including unconfirmed CR/PR that count as SD), in that order of rank".
    """
    candidates = [i for i, _, overall, _ in followups if overall == "PD"]
    candidates += [b for *_, b in followups if b is not None]
    progression = min(candidates) if candidates else None
    before = [
        (day, overall)
        for i, day, overall, _ in followups
        if progression is None or i < progression
    ]
    if profile.confirmation_days is not None:
        # "An unconfirmed CR or PR counts as SD when its timepoint meets the SD
        # minimum, otherwise it is ignored." The progression timepoint ends the
        # sequence as PD: nothing is confirmed across it.
        sequence = before + [(None, "PD")] * (progression is not None)
        before = [
            (day, overall)
            if overall not in ("CR", "PR") or confirmed(k, sequence, profile)
            else (day, "SD")
            for k, (day, overall) in enumerate(before)
        ]
    counted: set[str] = set()
    for day, overall in before:
        if overall == "SD" and (day is None or day < profile.sd_min_days):
            continue
        counted.add(overall)
    for response in ("CR", "PR", "SD"):
        if response in counted:
            return response
    return "PD" if progression is not None else "NE"


# --------------------------------------------------------------------------- rows


def days_from_baseline(read: ReadRows, index: int) -> int | None:
    """Return the days from baseline (``None``: unknown, an SD there cannot count).

    ``study_day`` ("whole days from the baseline scan"), else the difference of the scan
    dates.
    """
    row = read.by_timepoint[index][0]
    if row["study_day"]:
        return int(row["study_day"])
    baseline = read.by_timepoint[0][0]["scan_date"]
    if row["scan_date"] and baseline:
        return (
            date.fromisoformat(row["scan_date"]) - date.fromisoformat(baseline)
        ).days
    return None


def assess_read(read: ReadRows) -> list[dict[str, str]]:
    """Return the responses.csv rows of one read."""
    check_baseline(read)
    b = target_sum(read, 0)
    assert b is not None
    label_index = {rows[0]["timepoint"]: i for i, rows in read.by_timepoint.items()}
    out: list[dict[str, str]] = []
    followups: list[tuple[int, int | None, str, int | None]] = []
    for index in read.indices():
        first = read.by_timepoint[index][0]
        row = {column: first[column] for column in COPIED_COLUMNS}
        row["protocol_profile"] = read.profile_name
        row.update(dict.fromkeys(RESPONSE_COLUMNS[12:23], ""))
        s = target_sum(read, index)
        row["target_sum_mm"] = "" if s is None else one_decimal(s)
        row["baseline_sum_mm"] = one_decimal(b)
        row["change_from_baseline_pct"] = (
            "" if s is None else one_decimal(percent(s, b))
        )
        if index > 0:
            n = nadir(read, index)
            assert n is not None
            row["nadir_sum_mm"] = one_decimal(n)
            if s is not None and n != 0:
                row["change_from_nadir_pct"] = one_decimal(percent(s, n))
            target = target_response(read, index)
            previous = out[-1]["overall_response"]
            non_target = non_target_response(read, index, previous)
            new = new_lesions(read, index)
            backdated = backdated_to(read, index)
            row["target_response"] = target
            row["non_target_response"] = non_target
            row["new_lesions"] = new
            row["overall_response"] = overall_response(target, non_target, new)
            row["progression_backdated_to"] = backdated
            followups.append(
                (
                    index,
                    days_from_baseline(read, index),
                    row["overall_response"],
                    label_index[backdated] if backdated else None,
                )
            )
            row["best_response_to_date"] = best_response_to_date(
                followups, read.profile
            )
        out.append(row)
    return out


def expected_responses(
    rows: Iterable[Row], *, protocol: str | None = None
) -> list[dict[str, str]]:
    """Return the responses.csv rows (without ``software_version``) the spec demands.

    ``protocol`` plays the part of ``assess --protocol``. Raises :class:`Refused` when a
    read breaks a baseline rule.
    """
    out: list[dict[str, str]] = []
    for read_rows in group_reads(rows).values():
        name = protocol or read_rows[0]["protocol_profile"]
        by_timepoint: dict[int, list[Row]] = {}
        for row in read_rows:
            by_timepoint.setdefault(int(row["timepoint_index"]), []).append(row)
        out.extend(assess_read(ReadRows(PROFILES[name], name, by_timepoint)))
    return out
