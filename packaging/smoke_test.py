"""Check a built bundle: CLI scan, measure and assess, and the GUI starting offscreen.

The bundled CLI scans the sample study, measures a lesion on its JPEG 2000 arterial series
(the whole series decoded by imagecodecs, whose codec modules load on first use and must
travel with the bundle), assesses an example and writes the endpoints
report of a synthetic trial (scipy, statsmodels and matplotlib travel with the bundle);
the bundled GUI starts offscreen on the sample study, shows the first image and quits
cleanly.

Usage: ``python packaging/smoke_test.py dist/mrecist_reader`` (``make package-test``).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CSV = ROOT / "tests" / "data" / "measurements"


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(command), flush=True)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )  # type: ignore[call-overload]


def check_scan(cli: Path) -> None:
    result = run([str(cli), "scan", str(ROOT / "sample_dicom"), "--json"])
    assert result.returncode == 0, result.stderr
    series = json.loads(result.stdout)["series"]
    assert series, "no series found in sample_dicom"
    print(f"  scan: {len(series)} series")


def check_measure(cli: Path) -> None:
    truth = json.loads(
        (ROOT / "sample_dicom" / "truth.json").read_text(encoding="utf-8")
    )
    lesion = truth["subjects"][0]["lesions"][0]["timepoints"][0]["measurements"][0]
    seed = ",".join(str(v) for v in lesion["viable_seed_mm"])
    series = ROOT / "sample_dicom" / lesion["series_folder"]
    result = run([str(cli), "measure", str(series), f"--at={seed}", "--json"])
    assert result.returncode == 0, result.stderr
    measured = float(json.loads(result.stdout)["viable_diameter_mm"])
    assert abs(measured - lesion["viable_diameter_exact_mm"]) <= 2.0, measured
    print(
        f"  measure: {measured:.1f} mm on a JPEG 2000 series (truth {lesion['viable_diameter_mm']})"
    )


def check_assess(cli: Path) -> None:
    example = EXAMPLE_CSV / "nct06779461_central_two_subjects.csv"
    result = run([str(cli), "assess", str(example)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("schema_version,"), result.stdout[:200]
    print(f"  assess: {len(result.stdout.splitlines()) - 1} response rows")


def check_endpoints(cli: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        trial, out = Path(work) / "trial", Path(work) / "endpoints"
        made = run(
            [sys.executable, "-m", "mrecist_reader.analysis.synthetic", str(trial)]
        )
        assert made.returncode == 0, made.stderr
        files = ("responses", "treatments", "arms")
        paths = [f"--{name}={trial / f'{name}.csv'}" for name in files]
        result = run([str(cli), "endpoints", *paths, "-o", str(out)])
        assert result.returncode == 0, result.stderr[-2000:]
        assert (out / "report.pdf").stat().st_size > 0
        svgs = sorted(p.name for p in (out / "figures").glob("*.svg"))
        assert svgs, "no SVG figures written"
        print(f"  endpoints: report.pdf and {len(svgs)} SVG figures")


def check_gui(gui: Path) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            MRECIST_READER_BENCHMARK_STARTUP="1",
            MRECIST_READER_READER_ID="SMOKE",
            MRECIST_READER_READ_TYPE="local",
            XDG_CONFIG_HOME=home,
            XDG_DATA_HOME=home,
            XDG_STATE_HOME=home,
        )
        db = f"sqlite:///{home}/reads.db"
        result = run([str(gui), str(ROOT / "sample_dicom"), "--db", db], env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "FIRST_IMAGE" in result.stdout, result.stdout[-2000:]
    print("  gui: started offscreen, showed the first image and quit cleanly")


def main() -> int:
    bundle = Path(
        sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "mrecist_reader"
    )
    suffix = ".exe" if os.name == "nt" else ""
    check_scan(bundle / f"mrecist-reader{suffix}")
    check_measure(bundle / f"mrecist-reader{suffix}")
    check_assess(bundle / f"mrecist-reader{suffix}")
    check_endpoints(bundle / f"mrecist-reader{suffix}")
    check_gui(bundle / f"mrecist-reader-gui{suffix}")
    print("bundle smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
