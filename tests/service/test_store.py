"""The store on SQLite and PostgreSQL: migrations, results lookup, job queue and recovery."""

from __future__ import annotations

import threading
from typing import Any

from dynaspine.store import current_revision, head_revision, inputs_hash


def test_migrated_to_head(store: Any) -> None:
    assert current_revision(store.engine) == head_revision() == "0001"


def test_results_by_inputs_hash(store: Any) -> None:
    study = store.add_study(description="phantom", modality="RF")
    h = inputs_hash("motion", "abc", {"view": "lateral"})
    assert h == inputs_hash("motion", "abc", {"view": "lateral"})
    assert h != inputs_hash("motion", "abd", {"view": "lateral"})
    assert store.find_result(h) is None
    row = store.save_result(
        study.id, {"schema": "dynaspine.result/1", "x": [1, 2]}, kind="motion", inputs_hash=h
    )
    found = store.find_result(h)
    assert found.id == row.id and found.document["x"] == [1, 2]
    assert found.schema_version == "dynaspine.result/1"
    assert store.find_result(h, "0.0.0-other") is None
    assert study.id in [s.id for s in store.list_studies(q="PHANT", limit=500)]
    assert study.id not in [s.id for s in store.list_studies(q="no-such-text", limit=500)]
    assert study.id not in [s.id for s in store.list_studies(modality="CT", limit=500)]


def test_claim_is_exclusive(store: Any) -> None:
    study = store.add_study()
    jobs = [store.submit_job(study.id, kind="motion", params={}) for _ in range(6)]
    mine = {j.id for j in jobs}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        while True:
            job = store.claim_job(f"test:{n}")
            if job is None:
                return
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ours = [c for c in claimed if c in mine]
    assert sorted(ours) == sorted(mine)  # each job claimed exactly once


def test_recover_requeues_then_fails(store: Any) -> None:
    study = store.add_study()
    job = store.submit_job(study.id, kind="motion", params={})
    # drain other queued jobs of the shared database first
    doomed = f"dead-host:1:{job.id}"
    while (got := store.claim_job(doomed)) is not None and got.id != job.id:
        store.fail_job(got.id, error="test cleanup")

    def dead(worker_id: str | None) -> bool:  # only our worker is dead
        return worker_id != doomed

    actions = dict(store.recover_jobs(resume=True, max_attempts=2, is_alive=dead))
    assert actions[job.id] == "requeued"
    again = store.get_job(job.id)
    assert again.status == "queued" and "re-queued" in again.error
    while (got := store.claim_job(doomed)) is not None and got.id != job.id:
        store.fail_job(got.id, error="test cleanup")
    assert got is not None
    actions = dict(store.recover_jobs(resume=True, max_attempts=2, is_alive=dead))
    assert actions[job.id] == "failed"
    final = store.get_job(job.id)
    assert final.status == "failed" and "after 2 attempt(s)" in final.error
