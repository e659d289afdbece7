"""`mrecist-reader assess` against an independent transcription of the spec.

Hypothesis writes valid measurements.csv files full of the traps of mrecist-rules.md
(sums exactly 30.0 % below baseline or 20.0 % above the nadir, nadir 0 after CR, targets
not evaluable, early SD, equivocal new lesions confirmed later, 33.3 + 33.3 + 33.4 style
values, both shipped profiles, several reads per file), and scripted reads that walk
through CR, PR, SD and NE timepoints days around the confirmation interval apart, with
non-target lesions coming back after a CR (or after an NE that followed it) and new
lesions with or without a measured diameter. A file is assessed under the profile each
read names, or under one of three test profiles that require confirmation (28 days with
at most 1 NE between, 28 days with none, 56 days with 2), given as a TOML file to
``--protocol``. The test runs the real command on each file and compares every cell of
every row with :mod:`tests.core.reference_engine`.

The run is derandomized so CI sees the same files every time. Set
``MRECIST_DIFFERENTIAL_EXAMPLES`` (e.g. 2500, about 20,000 timepoints) for a longer run.
"""

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrecist_reader.cli import main
from tests.core.reference_engine import RESPONSE_COLUMNS, Refused, expected_responses

MEASUREMENT_COLUMNS = [
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
    "lesion_id",
    "lesion_type",
    "organ",
    "location",
    "status",
    "viable_diameter_mm",
    "series_instance_uid",
    "sop_instance_uid",
    "p1_x_mm",
    "p1_y_mm",
    "p1_z_mm",
    "p2_x_mm",
    "p2_y_mm",
    "p2_z_mm",
    "method",
    "comment",
    "read_status",
    "signed_at",
    "software_version",
]
"""measurements.csv columns in the order of data-transfer.md."""

RANGES = {"nct06779461": (300, 1000), "mrecist": (100, 2500)}
"""Baseline target range per profile in tenths of a mm (mrecist: no upper limit)."""
SD_MIN_DAYS = {"nct06779461": 28, "mrecist": 42}
CONFIRMING = {
    "confirm28": {"sd_min_days": 42, "interval": 28, "max_ne": 1},
    "confirm28_ne0": {"sd_min_days": 28, "interval": 28, "max_ne": 0},
    "confirm56_ne2": {"sd_min_days": 35, "interval": 56, "max_ne": 2},
}
"""Test profiles that require confirmation: the generic profile's targets (10.0 mm or
more, no upper limit, so that every drawn read fits) with these settings."""
SHIPPED_MRECIST = (
    Path(__file__).resolve().parents[2] / "resources" / "protocols" / "mrecist.toml"
)
TARGET_ORGANS = ("liver", "lung", "peritoneum", "other")
EXAMPLES = int(os.environ.get("MRECIST_DIFFERENTIAL_EXAMPLES", "160"))

Draw = Callable[[st.SearchStrategy[Any]], Any]
Row = dict[str, str]


def mm(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


# --------------------------------------------------------------------------- baseline


def baseline_diameters(draw: Draw, profile: str) -> list[int]:
    """Draw 1–5 target diameters within the range.

    Often on its ends, or adding up to round totals such as 33.3 + 33.3 + 33.4 = 100.0.
    """
    low, high = RANGES[profile]
    count = draw(st.integers(1, 5))
    edge = st.sampled_from([low, high, low + 1, high - 1, 333, 334, 400, 800, 1000])
    one = st.one_of(edge, st.integers(low, high), st.integers(low, low + 200))
    values = [draw(one) for _ in range(count)]
    if draw(st.booleans()):  # a whole-millimetre total: 30 % of it is exact
        lowest = -(-low * count // 10)
        total = 10 * draw(
            st.one_of(
                st.integers(lowest, lowest + 20),
                st.integers(lowest, high * count // 10),
            )
        )
        values = split(draw, total, count, low, high) or values
    return values


def split(draw: Draw, total: int, parts: int, low: int, high: int) -> list[int] | None:
    """Split ``total`` tenths into ``parts`` values within [low, high], or None."""
    if not low * parts <= total <= high * parts:
        return None
    values: list[int] = []
    left = total
    for remaining in range(parts - 1, 0, -1):
        lo = max(low, left - high * remaining)
        hi = min(high, left - low * remaining)
        near = min(max(left // (remaining + 1), lo), hi)
        value = draw(st.one_of(st.just(near), st.integers(lo, hi)))
        values.append(value)
        left -= value
    values.append(left)
    return values


# --------------------------------------------------------------------------- targets


def around(value_times_10: int) -> st.SearchStrategy[int]:
    """Tenths just at, below and above an exact boundary given ×10 (e.g. 7 × B)."""
    floor, ceil = value_times_10 // 10, -(-value_times_10 // 10)
    return st.sampled_from([floor, ceil, floor - 1, ceil + 1])


def target_sum_goal(draw: Draw, baseline: int, nadir: int | None) -> int | None:
    """Pick the sum a follow-up should reach: on the PR or PD boundary, or anything."""
    mode = draw(st.sampled_from(["free", "free", "pr", "pd", "pd", "near"]))
    goal: int | None = None
    if mode == "near":  # a change of a few tenths: percentages such as 0.25 round up
        reference = draw(st.sampled_from([baseline, nadir or 0]))
        goal = reference + draw(st.integers(-4, 4))
    elif mode == "pr":
        goal = draw(around(7 * baseline))
    elif mode == "pd" and nadir == 0:
        goal = draw(st.sampled_from([0, 1, 50, 51]))
    elif mode == "pd" and nadir is not None:
        goal = draw(around(12 * nadir))
    return None if goal is None else max(0, goal)


def target_statuses(draw: Draw, count: int) -> list[str]:
    kind = draw(st.sampled_from(["mixed", "measured", "measured", "absent", "ne"]))
    if kind == "measured":
        return ["measured"] * count
    if kind == "absent":
        return ["absent"] * count
    status = st.sampled_from(
        ["measured"] * 5 + ["too_small", "absent", "not_evaluable"]
    )
    statuses = [draw(status) for _ in range(count)]
    if kind == "ne":
        statuses[draw(st.integers(0, count - 1))] = "not_evaluable"
    return statuses


def followup_targets(
    draw: Draw, baseline: list[int], nadir: int | None
) -> tuple[list[tuple[str, int | None]], int | None]:
    """Return (status, tenths) per target and the sum when every target is evaluable."""
    statuses = target_statuses(draw, len(baseline))
    fixed = sum(50 for s in statuses if s == "too_small")
    measured = [i for i, s in enumerate(statuses) if s == "measured"]
    values: dict[int, int] = {}
    goal = target_sum_goal(draw, sum(baseline), nadir)
    if measured and goal is not None:
        parts = split(draw, goal - fixed, len(measured), 1, 3000)
        values = dict(zip(measured, parts, strict=True)) if parts else {}
    for i in measured:
        if i not in values:
            scale = draw(st.integers(1, 160))
            values[i] = draw(
                st.one_of(
                    st.integers(1, 1500), st.just(max(1, baseline[i] * scale // 100))
                )
            )
    cells: list[tuple[str, int | None]] = []
    for i, status in enumerate(statuses):
        tenths = {"too_small": 50, "absent": 0, "not_evaluable": None}.get(status)
        cells.append((status, values[i] if status == "measured" else tenths))
    evaluable = "not_evaluable" not in statuses
    total = sum(v for _, v in cells if v is not None)
    return cells, total if evaluable else None


# --------------------------------------------------------------------------- reads


def study_days(draw: Draw, followups: int, sd_min: int) -> list[int]:
    days = [0]
    first = st.sampled_from(
        [sd_min - 1, sd_min, sd_min + 1, 14, 27, 30, 34, 35, 41, 42]
    )
    later = st.sampled_from([1, 7, 14, 21, 27, 28, 29, 30, 31, 55, 56, 60])
    for k in range(followups):
        step = draw(first if k == 0 else later)
        days.append(days[-1] + step)
    return days


PLANS = ("CR", "PR", "PR", "PR", "SD", "SD", "NE", "NE", "NE-NT", "PD")
"""What a scripted follow-up aims at: CR (every lesion gone), PR, SD (below the PD
line of the nadir so far), NE (a target not evaluable, the others gone), NE-NT
(targets gone, a non-target not evaluable: PR overall) or PD."""
PLANS_AFTER_CR = ("CR", "CR", "NE", "NE", "NE-NT", "back", "back", "PD")
"""After a target CR (nadir 0) a PR or SD sum would be PD: "back" brings the
non-target lesions back with every target gone (PD right after a CR, else PR)."""


def planned_timepoint(
    draw: Draw, plan: str, baseline: list[int], nadir: int, non_targets: int
) -> tuple[list[tuple[str, int | None]], list[str]]:
    """Return target cells and non-target statuses that aim at ``plan``."""
    count, total = len(baseline), sum(baseline)
    gone: list[tuple[str, int | None]] = [("absent", 0)] * count
    absent = ["absent"] * non_targets
    if plan == "CR":
        return gone, absent
    if plan == "NE":
        cells = list(gone)
        cells[draw(st.integers(0, count - 1))] = ("not_evaluable", None)
        return cells, absent
    if plan == "NE-NT" and non_targets:
        statuses = list(absent)
        statuses[draw(st.integers(0, non_targets - 1))] = "not_evaluable"
        return gone, statuses
    if plan in ("back", "NE-NT"):
        return gone, [draw(st.sampled_from(["present", "absent"])) for _ in absent]
    below_pd = -(-12 * nadir // 10) - 1  # the largest sum under 1.2 × the nadir
    low, high = {
        "PR": (count, min(7 * total // 10, below_pd)),
        "SD": (7 * total // 10 + 1, min(11 * total // 10, below_pd)),
        "PD": (-(-12 * nadir // 10), 2 * total),
    }[plan]
    near_top = max(low, high - total // 10)  # a PR close to 70 %: room for SD after
    goal = (
        draw(st.one_of(st.integers(low, high), st.integers(near_top, high)))
        if low <= high
        else low
    )
    goal = max(count, goal)
    parts = split(draw, goal, count, 1, 3000) or [max(1, goal // count)] * count
    statuses = [draw(st.sampled_from(["present", "absent"])) for _ in absent]
    return [("measured", v) for v in parts], statuses


def new_lesion_statuses(draw: Draw, followups: int) -> list[dict[int, str]]:
    """Status per follow-up index of each new lesion (no entry: not recorded there).

    Mostly equivocal until confirmed ``present``; sometimes present at once, and
    sometimes an irregular history with gaps and a return to equivocal.
    """
    lesions: list[dict[int, str]] = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3])) if followups else 0):
        seen = draw(st.integers(1, followups))
        later = range(seen, followups + 1)
        if draw(st.integers(0, 3)) == 0:
            status = st.sampled_from(["equivocal", "present", "missing"])
            history = {i: draw(status) for i in later}
            history[seen] = draw(st.sampled_from(["equivocal", "present"]))
            lesions.append({i: v for i, v in history.items() if v != "missing"})
            continue
        confirm = draw(st.integers(seen, followups + 2))
        lesions.append({i: "present" if i >= confirm else "equivocal" for i in later})
    return lesions


def row(common: Row, **cells: str) -> Row:
    out = dict.fromkeys(MEASUREMENT_COLUMNS, "")
    out.update(common)
    out.update(cells)
    return out


LABELS = {
    "plain": ("BASELINE", "FU{n}"),
    "visit": ("Screening", "Visit {n}, week {w}"),
    "quoted": ("BASELINE", 'C{n}D1 "post-TACE" – ü'),
}
"""Timepoint label styles: the label is free text and may need CSV quoting."""


def timepoint_cells(
    draw: Draw, read: Row, index: int, day: int, style: str, *, signed: bool
) -> Row:
    baseline_label, pattern = LABELS[style]
    label = baseline_label if index == 0 else pattern.format(n=index, w=4 * index)
    dating = draw(st.sampled_from(["both"] * 6 + ["blinded", "date only", "neither"]))
    return read | {
        "timepoint": label,
        "timepoint_index": str(index),
        "scan_date": ""
        if dating in ("blinded", "neither")
        else (date(2026, 1, 5) + timedelta(days=day)).isoformat(),
        "study_day": "" if dating in ("date only", "neither") else str(day),
        "read_status": "signed" if signed else "draft",
        "signed_at": "2026-03-01T14:03:22Z" if signed else "",
    }


def target_rows(common: Row, cells: list[tuple[str, int | None]]) -> list[Row]:
    return [
        row(common, lesion_id=f"T{k + 1}", lesion_type="target",
            organ=TARGET_ORGANS[k // 2], location=f"segment {k + 2}, \"dome\"\nrim",
            status=status, viable_diameter_mm="" if tenths is None else mm(tenths),
            method="manual" if status == "measured" else "")
        for k, (status, tenths) in enumerate(cells)
    ]  # fmt: skip


NON_TARGET_STATUS = st.sampled_from(
    ["present"] * 4 + ["absent"] * 3 + ["progression", "not_evaluable"]
)


def other_rows(
    draw: Draw,
    common: Row,
    index: int,
    non_targets: int | list[str],
    new: list[dict[int, str]],
) -> list[Row]:
    """Rows of the non-target lesions (statuses drawn unless given) and new lesions."""
    statuses = (
        non_targets
        if isinstance(non_targets, list)
        else [
            "present" if index == 0 else draw(NON_TARGET_STATUS)
            for _ in range(non_targets)
        ]
    )
    rows = [
        row(common, lesion_id=f"NT{k + 1}", lesion_type="non_target",
            organ="portal_vein", location="thrombus, right branch", status=status)
        for k, status in enumerate(statuses)
    ]  # fmt: skip
    rows += [
        row(common, lesion_id=f"N{k + 1}", lesion_type="new", organ="liver",
            status=history[index],
            viable_diameter_mm=draw(st.sampled_from(["", "", "6.5", "10.0", "14.2"])))
        for k, history in enumerate(new)
        if index in history
    ]  # fmt: skip
    return rows


@st.composite
def read_rows(draw: Draw, number: int, scripted: bool | None = None) -> list[Row]:
    """Draw all the measurement rows of one valid read (scripted or not, or either)."""
    profile = draw(st.sampled_from(sorted(RANGES)))
    baseline = baseline_diameters(draw, profile)
    scripted = draw(st.booleans()) if scripted is None else scripted
    followups = draw(st.sampled_from([0, 1, 2, 3, 3, 4, 4, 5, 6]))
    if scripted:
        followups = draw(st.integers(2, 7))
    days = study_days(draw, followups, SD_MIN_DAYS[profile])
    non_targets = draw(st.integers(0, 3))
    new = new_lesion_statuses(draw, followups)
    if scripted and draw(st.integers(0, 2)):
        new = []  # new lesions would hide most of what the script aims at
    style = draw(st.sampled_from(sorted(LABELS)))
    read = {
        "schema_version": "1",
        "study_id": "NCT06779461" if profile == "nct06779461" else "LOCAL-HCC-01",
        "site_id": f"SITE{number % 3:02d}",
        "subject_id": draw(st.sampled_from(["S01", "S02"])),  # two readers, one subject
        "reader_id": f"R{number}",
        "read_type": draw(st.sampled_from(["central", "local"])),
        "criteria": "mRECIST",
        "protocol_profile": profile,
        "software_version": "0.1.0",
    }
    rows: list[Row] = []
    sums: list[int | None] = [sum(baseline)]
    # timepoints are signed in order: a signed prefix, then drafts (import refuses
    # a signed timepoint after a draft one)
    signed_through = draw(st.integers(-1, len(days) - 1))
    for index, day in enumerate(days):
        common = timepoint_cells(
            draw, read, index, day, style, signed=index <= signed_through
        )
        cells: list[tuple[str, int | None]] = [("measured", v) for v in baseline]
        statuses: int | list[str] = non_targets
        if index > 0:
            nadir = min(s for s in sums if s is not None)
            if scripted:
                plan = draw(st.sampled_from(PLANS_AFTER_CR if nadir == 0 else PLANS))
                cells, statuses = planned_timepoint(
                    draw, plan, baseline, nadir, non_targets
                )
                evaluable = all(status != "not_evaluable" for status, _ in cells)
                total = sum(v or 0 for _, v in cells) if evaluable else None
            else:
                cells, total = followup_targets(draw, baseline, nadir)
            sums.append(total)
        rows += target_rows(common, cells)
        rows += other_rows(draw, common, index, statuses, new)
    return rows


@st.composite
def measurement_files(draw: Draw) -> tuple[list[Row], str | None]:
    """Draw the rows of a measurements.csv of 1–3 reads, sometimes shuffled.

    Also the test profile to assess them under (``None``: each read's own).
    """
    count = draw(st.integers(1, 3))
    rows = [r for number in range(1, count + 1) for r in draw(read_rows(number))]
    if draw(st.integers(0, 4)) == 0:
        draw(st.randoms(use_true_random=False)).shuffle(rows)
    protocol = draw(st.sampled_from([None, *sorted(CONFIRMING)]))
    return rows, protocol


@st.composite
def confirmation_files(draw: Draw) -> tuple[list[Row], str | None]:
    """Draw 1–2 scripted reads and a test profile that requires confirmation."""
    count = draw(st.integers(1, 2))
    rows = [r for n in range(1, count + 1) for r in draw(read_rows(n, scripted=True))]
    return rows, draw(st.sampled_from(sorted(CONFIRMING)))


def confirming_profile(name: str) -> str:
    """Return the TOML of a test profile that requires confirmation."""
    settings = CONFIRMING[name]
    text = SHIPPED_MRECIST.read_text(encoding="utf-8")
    lines = {
        "name": f'"{name}"',
        "sd_min_days": settings["sd_min_days"],
        "confirmation_required": "true",
        "confirmation_interval_days": settings["interval"],
        "confirmation_max_ne_between": settings["max_ne"],
    }
    for key, value in lines.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert found == 1, key
    return text


# --------------------------------------------------------------------------- running


def render(rows: Sequence[Row]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=MEASUREMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run_assess(
    text: str, *args: str, profile: str | None = None
) -> tuple[int, list[Row] | None]:
    """Run ``mrecist-reader assess`` on the text; return exit status and rows written.

    ``profile`` names a test profile of :data:`CONFIRMING`, given as ``--protocol``.
    """
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "measurements.csv"), Path(folder, "responses.csv")
        source.write_text(text, encoding="utf-8", newline="")
        if profile is not None:
            toml = Path(folder, f"{profile}.toml")
            toml.write_text(confirming_profile(profile), encoding="utf-8")
            args = (*args, "--protocol", str(toml))
        code = main(["assess", str(source), "-o", str(target), *args])
        if not target.exists():
            return code, None
        with target.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert (
                tuple(reader.fieldnames or ())[: len(RESPONSE_COLUMNS)]
                == RESPONSE_COLUMNS
            )
            return code, list(reader)


def differences(expected: list[Row], actual: list[Row]) -> list[str]:
    """Compare row by row; the spec fixes no order of reads, only timepoints in order."""

    def key(r: Row) -> tuple[str, ...]:
        read = (r["study_id"], r["subject_id"], r["reader_id"], r["read_type"])
        return (*read, r["timepoint_index"].zfill(4))

    for read in {key(r)[:4] for r in actual}:
        indices = [int(r["timepoint_index"]) for r in actual if key(r)[:4] == read]
        assert indices == sorted(indices), f"timepoints of {read} out of order"
    expected, actual = sorted(expected, key=key), sorted(actual, key=key)
    assert [key(r) for r in actual] == [key(r) for r in expected]
    return [
        f"{'/'.join(key(e))} {column}: expected {e[column]!r}, got {a[column]!r}"
        for e, a in zip(expected, actual, strict=True)
        for column in RESPONSE_COLUMNS
        if column != "software_version" and e[column] != a[column]
    ]


COMPARED = {"timepoints": 0, "disagreements": 0}
"""Timepoint rows compared and cells that disagreed, shown after the run (``-s``)."""


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Iterator[None]:
    yield
    if COMPARED["timepoints"]:
        print(
            f"\ndifferential: {COMPARED['timepoints']} timepoints compared, "
            f"{COMPARED['disagreements']} disagreements"
        )


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(measurement_files())
def test_every_cell_agrees_with_the_spec_transcription(
    drawn: tuple[list[Row], str | None],
) -> None:
    assert_agreement(*drawn)


def assert_agreement(rows: list[Row], protocol: str | None) -> None:
    """Run ``assess`` and the transcription on the rows; every cell must agree."""
    expected = expected_responses(rows, protocol=protocol)
    code, actual = run_assess(render(rows), profile=protocol)
    assert code == 0
    assert actual is not None
    problems = differences(expected, actual)
    COMPARED["timepoints"] += len(expected)
    COMPARED["disagreements"] += len(problems)
    assert not problems, (
        f"--protocol {protocol}\n" + "\n".join(problems) + ("\n\n" + render(rows))
    )


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(confirmation_files())
def test_confirmation_sequences_agree_with_the_spec_transcription(
    drawn: tuple[list[Row], str | None],
) -> None:
    """CR, PR, SD and NE sequences, NE allowances and reappearance, every cell."""
    assert_agreement(*drawn)


# --------------------------------------------------------------------------- refusals


def one_target_read(
    profile: str, baseline_mm: str, followup_mm: str = "20.0", subject: str = "S01"
) -> list[Row]:
    common = {
        "schema_version": "1", "study_id": "NCT06779461", "site_id": "SITE01",
        "subject_id": subject, "reader_id": "R1", "read_type": "central",
        "criteria": "mRECIST", "protocol_profile": profile, "read_status": "draft",
        "software_version": "0.1.0",
    }  # fmt: skip
    timepoints = [("BASELINE", "0", "0", baseline_mm), ("FU1", "1", "30", followup_mm)]
    return [
        row(common, timepoint=label, timepoint_index=index, study_day=day,
            scan_date=(date(2026, 1, 5) + timedelta(days=int(day))).isoformat(),
            lesion_id="T1", lesion_type="target", organ="liver", status="measured",
            viable_diameter_mm=value, method="manual")
        for label, index, day, value in timepoints
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("profile", "baseline_mm", "allowed"),
    [
        ("nct06779461", "29.9", "30.0–100.0 mm"),
        ("nct06779461", "100.1", "30.0–100.0 mm"),
        ("mrecist", "9.9", "10.0 mm or more"),
    ],
)
def test_out_of_range_baseline_exits_1_and_writes_nothing_for_any_read(
    profile: str, baseline_mm: str, allowed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    valid = one_target_read(profile, "50.0", subject="S01")
    rows = valid + one_target_read(profile, baseline_mm, subject="S02")
    with pytest.raises(Refused):
        expected_responses(rows)
    assert run_assess(render(rows)) == (1, None)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f"/measurements.csv:4: T1: baseline viable diameter {baseline_mm} mm is outside "
        f"the allowed range {allowed} for target lesions of profile {profile}; it may "
        "be recorded as a non-target lesion"
    )


@pytest.mark.parametrize(
    ("profile", "baseline_mm", "followup_pct"),
    [("nct06779461", "30.0", "-33.3"), ("nct06779461", "100.0", "-80.0"),
     ("mrecist", "10.0", "100.0"), ("mrecist", "250.0", "-92.0")],
)  # fmt: skip
def test_range_ends_are_accepted(
    profile: str, baseline_mm: str, followup_pct: str
) -> None:
    rows = one_target_read(profile, baseline_mm)
    code, written = run_assess(render(rows))
    assert code == 0
    assert written is not None
    assert differences(expected_responses(rows), written) == []
    assert written[1]["change_from_baseline_pct"] == followup_pct


@pytest.mark.parametrize(
    ("baseline_mm", "followup_mm", "shown"),
    [
        ("40.0", "40.1", "0.3"),  # +0.25 %
        ("40.0", "39.9", "-0.3"),  # −0.25 %: half away from zero
        ("80.0", "80.2", "0.3"),  # +0.25 %
        ("40.0", "40.3", "0.8"),  # +0.75 %
        ("300.0", "299.9", "0.0"),  # −0.033 %
        ("60.0", "42.0", "-30.0"),  # exactly −30 %: PR
        ("33.3", "39.9", "19.8"),
    ],
)
def test_percentages_are_exact_then_rounded_half_away_from_zero(
    baseline_mm: str, followup_mm: str, shown: str
) -> None:
    rows = one_target_read("mrecist", baseline_mm, followup_mm)
    code, written = run_assess(render(rows))
    assert code == 0
    assert written is not None
    assert differences(expected_responses(rows), written) == []
    assert written[1]["change_from_baseline_pct"] == shown
    assert written[1]["change_from_nadir_pct"] == shown


EXAMPLE_FILES = Path(__file__).resolve().parents[1] / "data" / "measurements"


@pytest.mark.parametrize("protocol", [None, "mrecist", "nct06779461"])
@pytest.mark.parametrize(
    "name", ["nct06779461_central_two_subjects.csv", "mrecist_local_ne_then_pd.csv"]
)
def test_the_example_files_agree_under_any_protocol_option(
    name: str, protocol: str | None
) -> None:
    text = (EXAMPLE_FILES / name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    option = ("--protocol", protocol) if protocol else ()
    try:
        expected = expected_responses(rows, protocol=protocol)
    except Refused:  # the generic example's 12.1 mm target is too small for the trial
        assert run_assess(text, *option) == (1, None)
        return
    code, written = run_assess(text, *option)
    assert code == 0
    assert written is not None
    assert differences(expected, written) == []
