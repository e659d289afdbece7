"""A synthetic trial: responses.csv, treatments.csv and arms.csv for demos and benchmarks.

Deterministic (a fixed seed gives identical files): 228 subjects by default in two arms
(``TACE`` and ``TACE+X``) and two strata, up to 3 TACE sessions, a scan every 30 days
(± a few days) and up to 6 timepoints. Target sums follow a random course whose responses
are those of mrecist-rules.md (CR at 0, PR at -30 % from baseline, PD at +20 % from the
nadir); some subjects get new lesions, not-evaluable scans, drafts, no treatment or
drop out early, so the endpoints meet every case. No real patient data.

Run ``python -m mrecist_reader.analysis.synthetic DIR`` to write the three files.
"""

import argparse
import csv
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

STUDY_ID = "NCT06779461"
ARMS = ("TACE", "TACE+X")
STRATA = ("BCLC-A", "BCLC-B")
RESPONSE_COLUMNS: tuple[str, ...] = (
    "schema_version", "study_id", "site_id", "subject_id", "reader_id", "read_type",
    "criteria", "protocol_profile", "timepoint", "timepoint_index", "scan_date",
    "study_day", "target_sum_mm", "baseline_sum_mm", "nadir_sum_mm",
    "change_from_baseline_pct", "change_from_nadir_pct", "target_response",
    "non_target_response", "new_lesions", "overall_response",
    "progression_backdated_to", "best_response_to_date", "read_status", "signed_at",
    "software_version",
)  # fmt: skip
"""responses.csv's columns (data-transfer.md), spelled out: this module stands alone."""
TREATMENT_COLUMNS = ("schema_version", "study_id", "subject_id", "treatment", "session",
                     "study_day")  # fmt: skip
TIMEPOINTS = 6
"""Baseline and five follow-ups at most."""
_ORDER = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, "NE": 4}


@dataclass(frozen=True, slots=True)
class TrialFiles:
    """The paths of the three files written."""

    responses: Path
    treatments: Path
    arms: Path


def _target_response(total: int, baseline: int, nadir: int) -> str:
    if total == 0:
        return "CR"
    if nadir > 0 and total * 10 >= nadir * 12:
        return "PD"
    if total * 10 <= baseline * 7:
        return "PR"
    return "SD"


def _pct(value: int, reference: int) -> str:
    return "" if reference == 0 else f"{(value - reference) * 100 / reference:.1f}"


def _subject_rows(
    rng: random.Random, subject_id: str, arm: str, *, complete: bool = False
) -> list[dict[str, str]]:
    """Return one subject's responses.csv rows (sums in tenths of a millimetre)."""
    effect = 0.08 if arm == ARMS[1] else 0.0
    baseline = rng.randrange(300, 1500)
    scans = TIMEPOINTS if complete else rng.choice((2, 3, 4, 5, 6, 6, 6, 6))
    rows: list[dict[str, str]] = []
    total, nadir, best, progressed = baseline, baseline, "", False
    equivocal_at = ""
    for index in range(scans):
        day = 0 if index == 0 else 30 * index + rng.randint(-5, 5)
        row = {
            "timepoint": "BASELINE" if index == 0 else f"FU{index}",
            "timepoint_index": str(index),
            "study_day": str(day),
            "target_sum_mm": f"{total / 10:.1f}",
            "baseline_sum_mm": f"{baseline / 10:.1f}",
        }
        if index:
            drift = rng.gauss(-0.12 - effect, 0.22)
            total = max(0, int(total * (1 + drift)))
            if total < baseline // 3 and rng.random() < 0.3:
                total = 0  # complete response: no viable tumour left
            target = _target_response(total, baseline, nadir)
            evaluable = rng.random() > 0.05
            new = "no"
            if rng.random() < 0.07 and not equivocal_at:
                equivocal_at, new = row["timepoint"], "equivocal"
            elif (equivocal_at and rng.random() < 0.6) or rng.random() < 0.05:
                new = "yes"
            if not evaluable:
                target = "NE"
            overall = "PD" if new == "yes" or target == "PD" else target
            backdated = equivocal_at if new == "yes" and equivocal_at else ""
            progressed = progressed or overall == "PD"
            best = overall if not best or _ORDER[overall] < _ORDER[best] else best
            row |= {
                "target_sum_mm": "" if target == "NE" else f"{total / 10:.1f}",
                "nadir_sum_mm": f"{nadir / 10:.1f}",
                "change_from_baseline_pct": ""
                if target == "NE"
                else _pct(total, baseline),
                "change_from_nadir_pct": "" if target == "NE" else _pct(total, nadir),
                "target_response": target,
                "non_target_response": "NA",
                "new_lesions": new,
                "overall_response": overall,
                "progression_backdated_to": backdated,
                "best_response_to_date": best,
            }
            if target != "NE":
                nadir = min(nadir, total)
        signed = index < scans - 1 or rng.random() > 0.1
        row["read_status"] = "signed" if signed else "draft"
        row["signed_at"] = f"2026-0{1 + index % 9}-15T10:00:00Z" if signed else ""
        rows.append(row)
        if progressed and not complete and rng.random() < 0.5:
            break
    return rows


def _sessions(rng: random.Random) -> list[int]:
    if rng.random() < 0.03:
        return []
    count = rng.choice((1, 2, 2, 3, 3))
    first = rng.randint(1, 6)
    days = [first]
    for _ in range(count - 1):
        days.append(days[-1] + rng.randint(25, 45))
    return days


def write_trial(
    folder: Path, *, subjects: int = 228, seed: int = 18, complete: bool = False
) -> TrialFiles:
    """Write responses.csv, treatments.csv and arms.csv of a synthetic trial.

    Parameters
    ----------
    folder
        Where to write (created when missing).
    subjects
        How many subjects (alternately in the two arms).
    complete
        Every subject has all 6 timepoints (no early drop-out): for benchmarks.
    seed
        The random seed: the same seed gives the same files.

    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = TrialFiles(
        folder / "responses.csv", folder / "treatments.csv", folder / "arms.csv"
    )
    responses: list[dict[str, str]] = []
    treatments: list[dict[str, str]] = []
    arms: list[dict[str, str]] = []
    for number in range(1, subjects + 1):
        subject_id = f"S{number:03d}"
        arm = ARMS[number % 2]
        arms.append(
            {"subject_id": subject_id, "arm": arm, "stratum": rng.choice(STRATA)}
        )
        common = {
            "schema_version": "1", "study_id": STUDY_ID, "site_id": "",
            "subject_id": subject_id, "reader_id": "central1", "read_type": "central",
            "criteria": "mRECIST", "protocol_profile": "nct06779461",
            "software_version": "synthetic",
        }  # fmt: skip
        responses += [
            common | row
            for row in _subject_rows(rng, subject_id, arm, complete=complete)
        ]
        for session, day in enumerate(_sessions(rng), start=1):
            treatments.append(
                {
                    "schema_version": "1",
                    "study_id": STUDY_ID,
                    "subject_id": subject_id,
                    "treatment": "TACE",
                    "session": str(session),
                    "study_day": str(day),
                }
            )
    _write(files.responses, RESPONSE_COLUMNS, responses)
    _write(files.treatments, TREATMENT_COLUMNS, treatments)
    _write(files.arms, ("subject_id", "arm", "stratum"), arms)
    logger.info("wrote a synthetic trial of %d subjects to %s", subjects, folder)
    return files


def _write(path: Path, columns: Sequence[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(
            stream, fieldnames=list(columns), lineterminator="\n", restval=""
        )
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the synthetic trial's files into the folder named on the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--subjects", type=int, default=228)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    files = write_trial(args.folder, subjects=args.subjects, seed=args.seed)
    print(f"wrote {files.responses}, {files.treatments}, {files.arms}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
