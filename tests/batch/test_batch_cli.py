"""``dynaspine batch`` as a real subprocess: Ctrl-C, a hard kill midway, resume, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dynaspine.batch import Ledger
from dynaspine.cli import app
from dynaspine.errors import InputError

pytest.importorskip("distributed")


def _cmd(tree: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "dynaspine", "batch", str(tree), "--out", str(out),
            "--workers", "1", "--quiet"]  # fmt: skip


def _done_lines(out: Path) -> int:
    path = out / "ledger.jsonl"
    return path.read_text().count('"status": "done"') if path.exists() else 0


def _run_until(tree: Path, out: Path, *, done_at_least: int, sig: int) -> tuple[int, str]:
    """Start a batch, wait until the ledger holds ``done_at_least`` done lines, send ``sig``."""
    proc = subprocess.Popen(
        _cmd(tree, out),
        start_new_session=True,  # its own process group: the signal reaches its workers too
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _done_lines(out) < done_at_least and proc.poll() is None:
            assert time.monotonic() < deadline, "the batch made no progress"
            time.sleep(0.05)
        assert proc.poll() is None, "the batch finished before it could be interrupted"
        os.killpg(proc.pid, sig)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, output


@pytest.mark.slow
def test_ctrl_c_then_kill_then_resume_loses_nothing(
    phantom_tree: Path, tmp_path: Path, add_bad_study: Callable[..., Path]
) -> None:
    add_bad_study(phantom_tree)
    out = tmp_path / "out"

    # 1. Ctrl-C after the first study: clean stop, exit 130, summary says interrupted
    rc, output = _run_until(phantom_tree, out, done_at_least=1, sig=signal.SIGINT)
    assert rc == 130, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["done"] >= 1
    assert "Traceback" not in output

    # 2. resume, then a hard kill (no chance to clean up) after one more study
    first = _done_lines(out)
    rc, output = _run_until(phantom_tree, out, done_at_least=first + 1, sig=signal.SIGKILL)
    assert rc == -signal.SIGKILL
    markers = {p.parent.relative_to(out / "results").as_posix()
               for p in (out / "results").rglob("batch.json")}  # fmt: skip
    assert len(markers) >= first + 1

    # 3. resume to the end: studies with results are skipped, the rest done, bad one failed
    proc = subprocess.run(_cmd(phantom_tree, out), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one study failed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == len(markers)
    assert summary["done"] == 4 - len(markers)
    assert summary["failed"] == 1 and summary["failures"][0]["id"] == "bad"

    # the ledger is consistent: every study done exactly once, each with its result file
    ledger = Ledger(out / "ledger.jsonl")
    records = ledger.read()
    assert ledger.torn_lines <= 1  # at most the line the hard kill cut short
    done = Counter(r["id"] for r in records if r["status"] == "done")
    assert done == Counter({f"site/s{i}": 1 for i in range(4)})
    for rec in records:
        if rec["status"] == "done":
            marker = json.loads((out / "results" / rec["id"] / "batch.json").read_text())
            assert marker["inputs_hash"] == rec["inputs_hash"]
            assert json.loads((out / rec["result"]).read_text())["frames"] == 6
        else:
            assert rec["id"] == "bad" and "DICOM" in rec["error"]


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dynaspine", "batch", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "FOLDER" in proc.stderr and "--manifest" in proc.stderr
    runner = CliRunner()
    for args, message in [
        ([str(tmp_path), "--manifest", "m.csv"], "exactly one"),
        ([str(tmp_path), "--hash", "md5"], "--hash"),
        ([str(tmp_path), "--scheduler", "localhost"], "tcp://"),
        ([str(tmp_path), "--scheduler", "tcp://h:1", "--workers", "2"], "cannot be combined"),
        ([str(tmp_path / "missing")], "not a folder"),
        ([str(tmp_path)], "no study folder"),
    ]:
        result = runner.invoke(app, ["batch", *args, "--out", str(tmp_path / "o")])
        assert isinstance(result.exception, InputError), (args, result.output)
        assert message in str(result.exception), (args, str(result.exception))
