"""`cwsw evaluate`: the evaluation library behind the command line, as an evaluator uses it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from cwsw.cli import app

runner = CliRunner()


def _cwsw(tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["evaluate", *args], env={"CWSW_HOME": str(tmp_path)})


def _one_error(result: Result, *says: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for phrase in says:
        assert phrase in lines[0], lines[0]


def test_a_cluster_trial_prints_what_eefanalytics_prints(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    """crtFREQ(Posttest ~ Intervention + Prettest, random = "School") on the package's
    crtData, as its authors printed it (germaine86/eefAnalytics, Output-paper)."""
    result = _cwsw(
        tmp_path,
        "trial",
        str(fixtures_dir / "eef" / "crtData.csv"),
        "--design",
        "crt",
        "--outcome",
        "Posttest",
        "--intervention",
        "Intervention",
        "--cluster",
        "School",
        "--covariate",
        "Prettest",
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "265 pupils in 22 schools" in text
    for published in (
        "Intervention │ 3.11 │ 0.75 to 5.47",
        "conditional │ within │ 0.81 │ 0.10 to 1.52",
        "conditional │ total │ 0.67 │ 0.07 to 1.28",
        "unconditional │ within │ 0.70 │ 0.04 to 1.37",
        "unconditional │ total │ 0.60 │ 0.02 to 1.17",
        "school 5.67, pupil 14.78, total 20.45, ICC 0.28",
    ):
        assert published in text, published


def test_randomising_again_with_the_seed_gives_the_same_file(tmp_path: Path) -> None:
    schools = pd.DataFrame(
        {"laestab": [f"80{i:05d}" for i in range(30)], "la_code": ["800"] * 14 + ["801"] * 16}
    )
    path = tmp_path / "schools.csv"
    schools.to_csv(path, index=False)
    files = []
    for name in ("a.csv", "b.csv"):
        result = _cwsw(
            tmp_path, "randomise", str(path), "--seed", "2027", "--out", str(tmp_path / name)
        )
        assert result.exit_code == 0, result.output
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]
    allocation = pd.read_csv(tmp_path / "a.csv", comment="#", dtype=str)
    assert sorted(allocation.laestab) == sorted(schools.laestab)
    by_la = allocation.groupby("la_code").arm.value_counts().unstack()
    assert (by_la.max(axis=1) - by_la.min(axis=1)).max() <= 1  # balanced within each LA


def test_the_mdes_is_blooms(tmp_path: Path) -> None:
    """Bloom's MDES by hand: 40 schools of 30, ICC 0.1, no covariates, df 38: M = t(.975, 38)
    + t(.8, 38) = 2.0244 + 0.8513; SE = sqrt(.1/(.25*40) + .9/(.25*1200))."""
    result = _cwsw(tmp_path, "mdes", "--clusters", "40", "--cluster-size", "30", "--icc", "0.1")
    assert result.exit_code == 0, result.output
    expected = (2.0244 + 0.8513) * (0.1 / 10 + 0.9 / 300) ** 0.5
    assert f"{expected:.3f} standard deviations" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--design", "xyz"], "give crt, srt or mst"),
        (["--design", "crt"], "needs --cluster"),
        (["--design", "srt", "--intervention", "Prettest"], "must hold 0 (control) and 1"),
    ],
)
def test_a_trial_asked_wrongly_is_one_line(
    fixtures_dir: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    base = ["trial", str(fixtures_dir / "eef" / "crtData.csv"), "--outcome", "Posttest"]
    if "--intervention" not in args:
        base += ["--intervention", "Intervention"]
    _one_error(_cwsw(tmp_path, *base, *args), says)
    _one_error(
        _cwsw(
            tmp_path,
            "trial",
            str(tmp_path / "none.csv"),
            "--design",
            "srt",
            "--outcome",
            "y",
            "--intervention",
            "t",
        ),
        "no such file",
    )
