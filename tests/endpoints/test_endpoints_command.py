"""``mrecist-reader endpoints`` (endpoints.md §Outputs).

Files, all or nothing, and every subject's endpoint and every rate against an
independent computation.
"""

import csv
from pathlib import Path

import pytest
from scipy.stats import beta

from mrecist_reader.analysis.synthetic import write_trial
from mrecist_reader.cli import main
from mrecist_reader.resources import load_profile
from tests.endpoints.reference import Scan, reference

REPO = Path(__file__).resolve().parents[2]
TWO_SUBJECTS = REPO / "tests/data/measurements/nct06779461_central_two_subjects.csv"
SUBJECT_COLUMNS = (
    "subject_id,arm,endpoint,anchor_day,target_day,timepoint,study_day,"
    "basis_response,endpoint_response,responder,status,reason"
)
SUMMARY_COLUMNS = (
    "endpoint,population,arm,n,responders,rate,ci_low,ci_high,difference,"
    "diff_ci_low,diff_ci_high,p_fisher,p_cmh"
)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return a synthetic trial of 40 subjects and its endpoints output."""
    folder = tmp_path_factory.mktemp("trial")
    files = write_trial(folder / "in", subjects=40, seed=7)
    out = folder / "out"
    code = main(
        ["endpoints", "--responses", str(files.responses), "--treatments",
         str(files.treatments), "--arms", str(files.arms), "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    return folder / "in", out


def test_every_output_is_written(trial: tuple[Path, Path]) -> None:
    _inputs, out = trial
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        f"{stem}.{ext}"
        for stem in ("rates", "spider", "swimmer", "waterfall")
        for ext in ("png", "svg")
    ]
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.iterdir()) == [
        "endpoint_subjects.csv", "endpoint_summary.csv", "figures", "report.pdf"
    ]  # fmt: skip


def test_the_csv_files_have_the_specs_columns(trial: tuple[Path, Path]) -> None:
    _inputs, out = trial
    first = [
        (out / name).read_text(encoding="utf-8").split("\n", 1)[0]
        for name in ("endpoint_subjects.csv", "endpoint_summary.csv")
    ]
    assert first == [SUBJECT_COLUMNS, SUMMARY_COLUMNS]


def _scans(inputs: Path) -> dict[str, list[Scan]]:
    scans: dict[str, list[Scan]] = {}
    for r in rows(inputs / "responses.csv"):
        scans.setdefault(r["subject_id"], []).append(
            (int(r["timepoint_index"]), r["timepoint"], int(r["study_day"]),
             r["target_response"] or None, r["overall_response"] or None,
             r["read_status"] == "signed", r["progression_backdated_to"] or None)
        )  # fmt: skip
    return scans


def test_every_subjects_endpoint_matches_the_reference(
    trial: tuple[Path, Path],
) -> None:
    inputs, out = trial
    scans = _scans(inputs)
    sessions: dict[str, list[int]] = {}
    for r in rows(inputs / "treatments.csv"):
        sessions.setdefault(r["subject_id"], []).append(int(r["study_day"]))
    profile = load_profile("nct06779461")
    endpoints = {}
    for e in profile.endpoints:
        spec = {"anchor": str(e.anchor), "kind": str(e.kind), "offset_days": e.offset_days,
                "window_before_days": e.window_before_days,
                "window_after_days": e.window_after_days}  # fmt: skip
        endpoints[e.name] = spec | {"basis": "target"}
        endpoints[e.name + "_overall"] = spec | {"basis": "overall"}
    written = rows(out / "endpoint_subjects.csv")
    assert len(written) == 40 * 8
    for row in written:
        expected = reference(
            scans.get(row["subject_id"], []), sessions.get(row["subject_id"], []),
            endpoints[row["endpoint"]], profile.sd_min_days,
        )  # fmt: skip
        responder = {True: "yes", False: "no", None: ""}[expected.responder]
        assert (
            row["timepoint"], row["basis_response"], row["endpoint_response"],
            row["responder"], row["status"],
        ) == (
            expected.timepoint or "", expected.basis_response or "",
            expected.endpoint_response or "", responder, expected.status,
        ), row  # fmt: skip
        assert row["reason"]


def test_every_rate_and_interval_matches_an_independent_count(
    trial: tuple[Path, Path],
) -> None:
    _inputs, out = trial
    subjects = rows(out / "endpoint_subjects.csv")
    for row in rows(out / "endpoint_summary.csv"):
        if " - " in row["arm"]:
            continue
        chosen = [
            s for s in subjects
            if s["endpoint"] == row["endpoint"]
            and row["arm"] in ("all", s["arm"])
            and (row["population"] == "full" or s["status"] == "assessed")
        ]  # fmt: skip
        n, k = len(chosen), sum(s["responder"] == "yes" for s in chosen)
        low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
        high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
        assert (row["n"], row["responders"], row["rate"], row["ci_low"], row["ci_high"]) == (
            str(n), str(k), f"{k / n:.4f}", f"{low:.4f}", f"{high:.4f}"
        ), row  # fmt: skip


def test_the_comparison_row_is_named_other_minus_control(
    trial: tuple[Path, Path],
) -> None:
    _inputs, out = trial
    compared = {r["arm"] for r in rows(out / "endpoint_summary.csv") if r["difference"]}
    assert compared == {"TACE+X - TACE"}


def test_invalid_treatments_exit_1_with_file_line_and_write_nothing(
    trial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, _out = trial
    bad = tmp_path / "treatments.csv"
    text = (inputs / "treatments.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace(",TACE,1,", ",TACE,2,", 1), encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        ["endpoints", "--responses", str(inputs / "responses.csv"), "--treatments",
         str(bad), "-o", str(out)]
    )  # fmt: skip
    assert (code, out.exists()) == (1, False)
    assert f"{bad}:2: " in capsys.readouterr().err


def test_a_failure_while_writing_keeps_the_earlier_output(
    trial: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, _out = trial
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"earlier")

    def fail(*_args: object, **_kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr("mrecist_reader.analysis.report.write_report", fail)
    code = main(
        ["endpoints", "--responses", str(inputs / "responses.csv"), "--treatments",
         str(inputs / "treatments.csv"), "-o", str(out)]
    )  # fmt: skip
    assert (code, (out / "report.pdf").read_bytes()) == (2, b"earlier")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_with_other_files_is_not_replaced(
    trial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, _out = trial
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code = main(
        ["endpoints", "--responses", str(inputs / "responses.csv"), "--treatments",
         str(inputs / "treatments.csv"), "-o", str(tmp_path)]
    )  # fmt: skip
    assert (code, (tmp_path / "notes.txt").exists()) == (2, True)
    assert "holds other files (notes.txt" in capsys.readouterr().err


def test_an_unknown_control_arm_exits_1(
    trial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, _out = trial
    code = main(
        ["endpoints", "--responses", str(inputs / "responses.csv"), "--treatments",
         str(inputs / "treatments.csv"), "--arms", str(inputs / "arms.csv"),
         "--control", "SORAFENIB", "-o", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 1
    assert "control arm 'SORAFENIB' is not an arm" in capsys.readouterr().err


def test_a_profile_without_endpoints_is_a_usage_error(
    trial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, _out = trial
    code = main(
        ["endpoints", "--responses", str(inputs / "responses.csv"), "--treatments",
         str(inputs / "treatments.csv"), "--protocol", "mrecist", "-o",
         str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 2
    assert "defines no endpoints" in capsys.readouterr().err


def test_the_final_reads_come_from_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(TWO_SUBJECTS), "--db", url]) == 0
    treatments = tmp_path / "treatments.csv"
    treatments.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        "1,NCT06779461,S01,TACE,1,2\n1,NCT06779461,S02,TACE,1,1\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        ["endpoints", "--db", url, "--treatments", str(treatments), "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    found = {
        (r["subject_id"], r["endpoint"]): (r["timepoint"], r["endpoint_response"])
        for r in rows(out / "endpoint_subjects.csv")
    }
    # S01: FU1 (day 30) PR, 28 days after its TACE on day 2; S02's FU2 is a draft.
    assert found[("S01", "ORR30_last")] == ("FU1", "PR")
    assert found[("S02", "DCR30_first")] == ("FU1", "SD")
    assert found[("S02", "ORR90_last_overall")] == ("", "")
