"""Benchmark of the REST service: read-endpoint throughput and p99 latency, upload-to-result.

Starts a real ``dynaspine serve`` (uvicorn, one process, loopback only) on a fresh data
directory, uploads a parametric phantom cine, times upload -> analysis -> result, then
drives the read endpoints with a bounded closed-loop load generator (httpx, one client per
thread) and prints requests/s and latency percentiles. Every authenticated request also
writes its audit row, as in production.

    python benchmarks/bench_service.py [--database-url URL] [--threads 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DYNASPINE_WORKERS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynaspine",
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--data-dir",
            str(data),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def _load(url: str, headers: dict[str, str], *, threads: int, seconds: float) -> dict[str, float]:
    lat: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with httpx.Client(headers=headers, timeout=30) as c:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = c.get(url)
                lat[i].append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors[i] += 1

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    all_lat = np.array([x for xs in lat for x in xs]) * 1e3
    return {
        "requests": float(all_lat.size),
        "rps": all_lat.size / wall,
        "p50": float(np.percentile(all_lat, 50)),
        "p99": float(np.percentile(all_lat, 99)),
        "errors": float(sum(errors)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()

    from dynaspine.phantom import generate
    from dynaspine.store import Settings, open_store

    tmp = Path(tempfile.mkdtemp(prefix="dynaspine-bench-"))
    data = tmp / "data"
    url = args.database_url or f"sqlite:///{(data / 'dynaspine.sqlite').as_posix()}"
    store = open_store(settings=Settings(database_url=url, data_dir=data))
    name = f"bench-{os.getpid()}"
    store.add_user(name, role="clinician")
    auth = {"Authorization": f"Bearer {store.create_token(name)}"}
    store.close()

    ph = generate(
        anatomy="parametric", n_frames=args.frames, shape=(512, 512), pixel_spacing_mm=0.5, seed=11
    )
    ph.write(tmp / "phantom")
    marks = json.loads((tmp / "phantom" / "landmarks.json").read_text())
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    proc = _start(url, data, port)
    try:
        t0 = time.perf_counter()
        with (tmp / "phantom" / "study.dcm").open("rb") as fh:
            study = httpx.post(
                f"{base}/studies", files={"files": ("s.dcm", fh)}, headers=auth, timeout=120
            ).json()
        t_upload = time.perf_counter() - t0
        job = httpx.post(
            f"{base}/studies/{study['id']}/analyses",
            json={"landmarks": marks},
            headers=auth,
            timeout=30,
        ).json()
        while job["status"] in ("queued", "running"):
            time.sleep(0.05)
            job = httpx.get(f"{base}/jobs/{job['id']}", headers=auth).json()
        result = httpx.get(f"{base}/results/{job['result_id']}", headers=auth)
        t_total = time.perf_counter() - t0
        assert job["status"] == "succeeded" and result.status_code == 200, job
        size_mb = (tmp / "phantom" / "study.dcm").stat().st_size / 1e6
        n_vert = len(marks["vertebrae"])
        print(
            f"database: {url.split(':')[0]}  phantom: {args.frames} frames 512x512, "
            f"{n_vert} vertebrae, {size_mb:.1f} MB"
        )
        print(f"upload {t_upload:.2f} s; upload -> result {t_total:.2f} s\n")

        endpoints = {
            "GET /health (no auth)": f"{base}/health",
            "GET /studies": f"{base}/studies",
            "GET /studies/{id}": f"{base}/studies/{study['id']}",
            "GET /jobs/{id}": f"{base}/jobs/{job['id']}",
            "GET /results/{id}": f"{base}/results/{job['result_id']}",
        }
        print(
            f"{'endpoint':26s} {'req':>7s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'err':>4s}"
        )
        for label, ep in endpoints.items():
            m = _load(ep, auth, threads=args.threads, seconds=args.seconds)
            print(
                f"{label:26s} {m['requests']:7.0f} {m['rps']:8.1f} {m['p50']:8.1f} "
                f"{m['p99']:8.1f} {m['errors']:4.0f}"
            )
    finally:
        proc.kill()
        proc.wait(10)


if __name__ == "__main__":
    main()
