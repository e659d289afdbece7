"""`mrecist-reader assess --protocol` with a RECIST-1.1-style profile requiring confirmation.

The profile (``recist11_confirm28.toml`` beside this file) confirms CR and PR at least
28 days later with at most one NE between, counts SD from day 42 and allows lymph-node
targets. Each subject below is one read; follow-ups on days 42, 70, 98 (baseline day 0).
The expected columns follow mrecist-rules.md §Non-target response and §Across
timepoints, row by row: ``best_response_to_date`` uses the timepoints up to that row.
"""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from mrecist_reader.transfer.columns import MEASUREMENT_COLUMNS

PROFILE = Path(__file__).with_name("recist11_confirm28.toml")
DAYS = (0, 42, 70, 98)

Cell = str | tuple[str, str]
"""A status, or (status, viable_diameter_mm)."""

SUBJECTS: dict[str, dict[str, tuple[str, str, list[Cell | None]]]] = {
    "PR-SD-PR": {
        "T1": ("target", "liver", [("measured", "50.0"), ("measured", "34.0"),
                                   ("measured", "36.0"), ("measured", "34.0")]),
    },
    "PR-PR": {
        "T1": ("target", "liver", [("measured", "50.0"), ("measured", "34.0"),
                                   ("measured", "33.0")]),
    },
    "CR-PR": {
        "T1": ("target", "liver", [("measured", "50.0"), ("absent", "0.0"),
                                   ("absent", "0.0")]),
        "NT1": ("non_target", "portal_vein", ["present", "absent", "not_evaluable"]),
    },
    "CR-reappearance": {
        "T1": ("target", "liver", [("measured", "50.0"), ("absent", "0.0"),
                                   ("absent", "0.0")]),
        "NT1": ("non_target", "portal_vein", ["present", "absent", "present"]),
    },
    "CR-NE-reappearance": {
        "T1": ("target", "liver", [("measured", "50.0"), ("absent", "0.0"),
                                   ("not_evaluable", ""), ("absent", "0.0")]),
        "NT1": ("non_target", "portal_vein", ["present", "absent", "absent", "present"]),
    },
    "PR-NE-PR": {
        "T1": ("target", "liver", [("measured", "50.0"), ("measured", "34.0"),
                                   ("not_evaluable", ""), ("measured", "33.0")]),
    },
    "CR-CR with a node target": {
        "T1": ("target", "liver", [("measured", "40.0"), ("absent", "0.0"),
                                   ("absent", "0.0")]),
        "T2": ("target", "lymph_node", [("measured", "20.0"), ("measured", "8.0"),
                                        ("measured", "9.0")]),
    },
    "PR then a measured new lesion": {
        "T1": ("target", "liver", [("measured", "50.0"), ("measured", "34.0"),
                                   ("measured", "34.0")]),
        "N1": ("new", "liver", [None, None, ("present", "12.0")]),
    },
}  # fmt: skip

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    # (non_target_response, overall_response, best_response_to_date) per follow-up
    "PR-SD-PR": [("NA", "PR", "SD"), ("NA", "SD", "SD"), ("NA", "PR", "SD")],
    "PR-PR": [("NA", "PR", "SD"), ("NA", "PR", "PR")],
    "CR-PR": [("CR", "CR", "SD"), ("NE", "PR", "SD")],
    "CR-reappearance": [("CR", "CR", "SD"), ("PD", "PD", "SD")],
    "CR-NE-reappearance": [("CR", "CR", "SD"), ("CR", "NE", "SD"), ("IR_SD", "PR", "SD")],
    "PR-NE-PR": [("NA", "PR", "SD"), ("NA", "NE", "SD"), ("NA", "PR", "PR")],
    "CR-CR with a node target": [("NA", "CR", "SD"), ("NA", "CR", "CR")],
    "PR then a measured new lesion": [("NA", "PR", "SD"), ("NA", "PD", "SD")],
}  # fmt: skip


def measurements() -> str:
    rows: list[dict[str, str]] = []
    for number, (subject, lesions) in enumerate(SUBJECTS.items(), start=1):
        count = max(len(cells) for _, _, cells in lesions.values())
        for index in range(count):
            for lesion_id, (kind, organ, cells) in lesions.items():
                cell = cells[index]
                if cell is None:
                    continue
                status, diameter = (cell, "") if isinstance(cell, str) else cell
                row = dict.fromkeys(MEASUREMENT_COLUMNS, "")
                row.update(
                    schema_version="1", study_id="RECIST-TEST", site_id="SITE01",
                    subject_id=f"S{number:02d}", reader_id="R1", read_type="central",
                    criteria="RECIST1.1", protocol_profile="recist11_confirm28",
                    timepoint="BASELINE" if index == 0 else f"FU{index}",
                    timepoint_index=str(index), study_day=str(DAYS[index]),
                    lesion_id=lesion_id, lesion_type=kind, organ=organ,
                    location=subject, status=status, viable_diameter_mm=diameter,
                    read_status="draft", software_version="0.1.0",
                )  # fmt: skip
                rows.append(row)
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=MEASUREMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def responses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, list[dict[str, str]]]:
    source = tmp_path / "measurements.csv"
    source.write_text(measurements(), encoding="utf-8", newline="")
    target = tmp_path / "responses.csv"
    code = main(["assess", str(source), "--protocol", str(PROFILE), "-o", str(target)])
    assert (code, capsys.readouterr().err) == (0, "")
    by_subject: dict[str, list[dict[str, str]]] = {}
    with target.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_subject.setdefault(row["subject_id"], []).append(row)
    names = list(SUBJECTS)
    return {names[int(key[1:]) - 1]: rows for key, rows in by_subject.items()}


@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_every_follow_up_as_the_rules_with_confirmation_say(
    responses: dict[str, list[dict[str, str]]], subject: str
) -> None:
    rows = responses[subject]
    assert rows[0]["protocol_profile"] == "recist11_confirm28"
    assert rows[0]["overall_response"] == rows[0]["best_response_to_date"] == ""
    got = [
        (r["non_target_response"], r["overall_response"], r["best_response_to_date"])
        for r in rows[1:]
    ]
    assert got == EXPECTED[subject]


def test_the_installed_command_gives_the_same(tmp_path: Path) -> None:
    source = tmp_path / "measurements.csv"
    source.write_text(measurements(), encoding="utf-8", newline="")
    run = subprocess.run(
        [sys.executable, "-m", "mrecist_reader", "assess", str(source),
         "--protocol", str(PROFILE)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert (run.returncode, run.stderr) == (0, "")
    rows = list(csv.DictReader(io.StringIO(run.stdout, newline="")))
    last = {r["subject_id"]: r["best_response_to_date"] for r in rows}
    assert last == {
        f"S{n:02d}": EXPECTED[name][-1][2] for n, name in enumerate(SUBJECTS, start=1)
    }
