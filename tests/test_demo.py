"""The README's main job: ``dynaspine demo`` runs the whole chain and stores it in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from dynaspine._cli.demo import run_demo


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    summary = run_demo(out, quiet=True, frames=6, size=256)

    for name in summary["files"]:
        assert (out / name).is_file(), name
    result = json.loads((out / "result.json").read_text())
    assert result["schema"] == "dynaspine.result/1"
    assert result["frames"] == 6
    assert {"L4-L5", "L5-S1"} <= set(result["levels"])

    coding = json.loads((out / "coding.json").read_text())
    assert [line["code"] for line in coding["lines"]] == ["76120"]
    # CY2025 national non-facility 76120 (PPRRVU2025_Oct: 3.29 RVU x 32.3465).
    assert coding["lines"][0]["price"]["amount"] == "106.42"

    with sqlite3.connect(out / "dynaspine.sqlite") as db:
        assert db.execute("select count(*) from studies").fetchone()[0] == 1
        assert db.execute("select count(*) from results").fetchone()[0] == 1
        assert db.execute("select count(*) from coding_results").fetchone()[0] == 1
    # Every level the phantom moved was measured and compared with its truth.
    assert len(summary["levels"]) == len(result["levels"])


def test_demo_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = subprocess.run(
        [sys.executable, "-m", "dynaspine", "demo", "--out", str(blocker / "demo"), "-q"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "cannot create the demo output folder" in out.stderr
    assert "Traceback" not in out.stderr
