"""run_batch on a real Dask cluster (2 worker processes) with small parametric phantoms."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dynaspine import __version__
from dynaspine.batch import Ledger, inputs_hash, run_batch, scan_tree

pytest.importorskip("distributed")


def _records(out: Path) -> list[dict[str, Any]]:
    return Ledger(out / "ledger.jsonl").read()


def test_batch_analyses_records_failures_and_skips_on_rerun(
    phantom_tree: Path, tmp_path: Path, scheduler: str, add_bad_study: Callable[..., Path]
) -> None:
    add_bad_study(phantom_tree)
    specs = scan_tree(phantom_tree)
    out = tmp_path / "out"
    events: list[dict[str, Any]] = []
    ticks: list[tuple[int, int]] = []
    summary = run_batch(
        specs,
        out_dir=out,
        scheduler=scheduler,
        on_event=events.append,
        progress=lambda d, t: ticks.append((d, t)),
    )
    assert (summary.total, summary.done, summary.skipped, summary.failed) == (5, 4, 0, 1)
    assert not summary.interrupted and summary.workers == 2
    assert ticks[-1] == (5, 5)
    ((bad_id, bad_error),) = summary.failures
    assert bad_id == "bad" and "neither a DICOM file" in bad_error

    records = _records(out)
    assert sorted((r["id"], r["status"]) for r in records) == [
        ("bad", "failed"),
        ("site/s0", "done"),
        ("site/s1", "done"),
        ("site/s2", "done"),
        ("site/s3", "done"),
    ]
    by_id = {s.id: s for s in specs}
    for rec in records:
        assert rec["dynaspine_version"] == __version__
        assert rec["inputs_hash"] == inputs_hash(by_id[rec["id"]])
        if rec["status"] != "done":
            continue
        result = json.loads((out / rec["result"]).read_text())
        assert result["schema"] == "dynaspine.result/1"
        assert result["frames"] == 6
        assert set(result["levels"]) == {"L3-L4", "L4-L5"}
        assert all(c is not None for c in result["vertebrae"]["L4"]["corners_px"])
        marker = json.loads((out / "results" / rec["id"] / "batch.json").read_text())
        assert marker["inputs_hash"] == rec["inputs_hash"]

    # rerun: every done study is skipped, the failed one is tried again
    again = run_batch(specs, out_dir=out, scheduler=scheduler)
    assert (again.done, again.skipped, again.failed) == (0, 4, 1)
    assert len(_records(out)) == 6  # one more 'failed' line, no duplicate 'done'

    # changed landmarks of one study: only that one is analysed again
    marks = Path(by_id["site/s1"].landmarks)
    doc = json.loads(marks.read_text())
    doc["vertebrae"]["L3"][0][0] += 1.0
    marks.write_text(json.dumps(doc))
    third = run_batch([s for s in specs if s.id != "bad"], out_dir=out, scheduler=scheduler)
    assert (third.done, third.skipped, third.failed) == (1, 3, 0)


def test_lost_ledger_line_is_restored_and_broken_result_redone(
    phantom_tree: Path, tmp_path: Path, scheduler: str
) -> None:
    specs = scan_tree(phantom_tree)[:2]
    out = tmp_path / "out"
    run_batch(specs, out_dir=out, scheduler=scheduler)
    # crash simulations: the ledger lost its lines (killed before the append) and one
    # result file was cut short (its marker no longer matches)
    (out / "ledger.jsonl").write_text("")
    result = out / "results" / "site/s1" / "RESULT.json"
    result.write_text(result.read_text()[:100])
    summary = run_batch(specs, out_dir=out, scheduler=scheduler)
    assert (summary.done, summary.skipped) == (1, 1)
    records = _records(out)
    assert sorted((r["id"], r.get("recovered", False)) for r in records) == [
        ("site/s0", True),
        ("site/s1", False),
    ]
    assert json.loads(result.read_text())["schema"] == "dynaspine.result/1"


def test_results_into_the_store(
    phantom_tree: Path, tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynaspine.store import open_store

    monkeypatch.setenv("DYNASPINE_DATA_DIR", str(tmp_path / "data"))  # the store's data folder

    specs = scan_tree(phantom_tree)[:2]
    url = f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    out = tmp_path / "out"
    summary = run_batch(specs, out_dir=out, scheduler=scheduler, store=True, database_url=url)
    assert (summary.done, summary.failed) == (2, 0)
    assert not (out / "results").exists()
    store = open_store(url)
    try:
        for spec in specs:
            row = store.find_result(inputs_hash(spec), __version__)
            assert row is not None and row.kind == "motion"
            assert row.document["schema"] == "dynaspine.result/1"
            assert store.get_study(row.study_id).source == "batch"
    finally:
        store.close()
    again = run_batch(specs, out_dir=out, scheduler=scheduler, store=True, database_url=url)
    assert (again.done, again.skipped) == (0, 2)
    assert all(r["result"].startswith("store:results/") for r in _records(out))


def test_static_bending_study_kind_views(tmp_path: Path, scheduler: str) -> None:
    from dynaspine.phantom import generate

    phantom = generate(
        anatomy="parametric",
        program="static",
        shape=(160, 160),
        pixel_spacing_mm=1.0,
        vertebrae=["L3", "L4", "L5"],
        dose="radiograph",
        seed=7,
    )
    phantom.write(tmp_path / "static")
    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            [
                {
                    "input": "static/dx",
                    "landmarks": "static/landmarks.json",
                    "kind": "views",
                    "id": "st",
                }
            ]
        )
    )
    from dynaspine.batch import read_manifest

    out = tmp_path / "out"
    summary = run_batch(read_manifest(manifest), out_dir=out, scheduler=scheduler)
    assert (summary.done, summary.failed) == (1, 0), summary.failures
    doc = json.loads((out / "results" / "st" / "STUDY.json").read_text())
    assert doc["schema"] == "dynaspine.study-facts/1"
    assert doc["measurements"]["groups"], "the landmarked group was measured"
