"""Train the vertebra recognition network on phantom DRRs (CPU, fixed seeds).

Usage::

    pip install -r requirements/train.txt          # PyTorch, for training only
    python scripts/train_recognition.py [--steps N] [--frames N] [--out PATH] [--seed S]
    python scripts/train_recognition.py --tiny      # a few frames and steps (smoke test)

Writes the weights (batch norm folded into the convolutions) to
``src/dynaspine/recognition/data/vertebra_net.npz`` (or ``--out``), which
``dynaspine.recognition`` runs in NumPy without PyTorch. See
``src/dynaspine/recognition/data/vertebra_net.md`` for the provenance of the shipped file.

Training frames come from ``dynaspine.phantom.generate`` with seeds from 1000 up; the CT
films use the 3 mm bone model or the sharp one (``bone_model="sharp"``) half and half
(``--sharp-fraction``). What is **held out** (never generated for training) is listed in
``HELD_OUT`` and measured by ``benchmarks/bench_recognition.py``.
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dynaspine.phantom import generate
from dynaspine.recognition._net import (
    CORNER_VEC_SCALE,
    GRID_MM,
    N_HEAT,
    OUT_CHANNELS,
    normalise,
    to_grid,
)

HELD_OUT = (
    "cone-beam geometry (training is parallel-beam only)",
    "detector blur above 0.9 mm FWHM (training 0.2-0.9 mm)",
    "dose below 800 quanta/mm^2 (training: fluoro 530 is included; 300/mm^2 is not)",
    "CT anatomy at the static neutral position (training CT films are flexion, extension "
    "or bending at 0.2-1.2 x the range of motion)",
    "pixel spacings 0.3 and 0.8 mm (training 0.4-0.6 mm, plus 0.8-1.25 x scale augmentation)",
    "parametric and CT phantom seeds below 1000 (noise, drift, gas)",
)

WIDTHS = (16, 32, 48, 64)
CROP = 80  # grid pixels (160 mm)
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src/dynaspine/recognition/data/vertebra_net.npz"

CHAINS_LATERAL = [
    ["L1", "L2", "L3", "L4", "L5", "S1"],
    ["T12", "L1", "L2", "L3", "L4", "L5", "S1"],
    ["T11", "T12", "L1", "L2", "L3", "L4", "L5"],
    ["T9", "T10", "T11", "T12", "L1", "L2", "L3"],
    ["L2", "L3", "L4", "L5", "S1"],
]
CHAINS_AP = [
    ["L1", "L2", "L3", "L4", "L5", "S1"],
    ["T12", "L1", "L2", "L3", "L4", "L5"],
    ["L2", "L3", "L4", "L5", "S1"],
    ["T10", "T11", "T12", "L1", "L2", "L3"],
]


BASE_MM = 1.0  # rendered frames are kept resampled to this pixel size, scaled to [0, 1]


@dataclass
class Frame:
    """One rendered frame at ``BASE_MM`` and its true corners (px, anatomical slot order)."""

    image: np.ndarray
    spacing: float
    corners: dict[str, np.ndarray]
    view: str
    s1_known: bool


def _base(
    image: np.ndarray, spacing: float, corners: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Resample a frame to ``BASE_MM`` (anti-aliased as at inference) and scale to [0, 1]."""
    f = spacing / BASE_MM
    rows, cols = round(image.shape[0] * f), round(image.shape[1] * f)
    mat = np.array([[f, 0.0, 0.5 * f - 0.5], [0.0, f, 0.5 * f - 0.5]])
    img = to_grid(image.astype(np.float32), mat, (rows, cols), 1.0 / f)
    lo, hi = np.percentile(img, [0.5, 99.5])
    img = np.clip((img - lo) / max(float(hi - lo), 1.0), 0.0, 1.0).astype(np.float32)
    return img, {k: q @ mat[:, :2].T + mat[:, 2] for k, q in corners.items()}


def _corners_at(st: Any, k: int) -> dict[str, np.ndarray]:
    out = {}
    for name, ref in st.true_landmarks.vertebrae.items():
        t = st.truth.transforms[name][k]
        out[name] = ref @ t[:, :2].T + t[:, 2]
    return out


SHARP_FRACTION = 0.5  # CT films rendered with bone_model="sharp" (the rest: the 3 mm model)


def make_frames(
    n: int, seed: int, *, log: bool = True, sharp_fraction: float = SHARP_FRACTION
) -> list[Frame]:
    """Render about ``n`` training frames (CT and parametric, lateral and AP).

    CT films use ``bone_model="sharp"`` with probability ``sharp_fraction``, drawn from a
    separate generator (``default_rng([seed, 2])``) so that every other drawn parameter is
    the same as with ``sharp_fraction=0``.
    """
    rng = np.random.default_rng(seed)
    bone_rng = np.random.default_rng([seed, 2])
    frames: list[Frame] = []
    i = 0
    t0 = time.perf_counter()
    while len(frames) < n:
        i += 1
        anatomy = "ct" if i % 2 else "parametric"
        view = "lateral" if rng.random() < 0.6 else "ap"
        sp = float(rng.choice([0.4, 0.5, 0.6]))
        side = int(rng.integers(260, 340) / sp)
        shape = (side + int(rng.integers(-40, 41)), side)
        dose_pick = rng.random()
        dose: Any = (
            "fluoro"
            if dose_pick < 0.3
            else "radiograph"
            if dose_pick < 0.6
            else float(np.exp(rng.uniform(np.log(800), np.log(60000))))
        )
        kw: dict[str, Any] = {
            "anatomy": anatomy,
            "view": view,
            "program": "static",
            "positions": ["flexion", "extension"]
            if view == "lateral"
            else ["left-bending", "right-bending"],
            "rom_scale": float(rng.uniform(0.2, 1.2)),
            "pixel_spacing_mm": sp,
            "shape": shape,
            "dose": dose,
            "blur_mm": float(rng.uniform(0.2, 0.9)),
            "seed": 1000 + i,
            "enhance": float(rng.uniform(0.3, 1.5)),
            "texture": float(rng.uniform(0.05, 0.3)),
            "gas": bool(rng.random() < 0.8),
        }
        if anatomy == "ct":
            kw["bone_model"] = "sharp" if bone_rng.random() < sharp_fraction else "ct"
        if anatomy == "parametric":
            chains = CHAINS_LATERAL if view == "lateral" else CHAINS_AP
            kw["vertebrae"] = chains[int(rng.integers(len(chains)))]
            kw["positions"] = kw["positions"] + ["neutral"]
        st = generate(**kw)
        for k in range(st.frames.shape[0]):
            img, corners = _base(st.frames[k], sp, _corners_at(st, k))
            frames.append(
                Frame(
                    image=img,
                    spacing=BASE_MM,
                    corners=corners,
                    view=view,
                    s1_known=not (anatomy == "ct" and view == "ap"),
                )
            )
        if log and i % 10 == 0:
            print(f"  rendered {len(frames)} frames ({time.perf_counter() - t0:.0f} s)", flush=True)
    return frames[:n]


def _image_order(q: np.ndarray) -> np.ndarray:
    """Anatomical slots -> superior-left, superior-right, inferior-right, inferior-left."""
    sup = sorted([q[0], q[1]], key=lambda p: float(p[0]))
    inf = sorted([q[3], q[2]], key=lambda p: float(p[0]))
    return np.array([sup[0], sup[1], inf[1], inf[0]])


def _gauss(shape: tuple[int, int], pts: np.ndarray, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    out = np.zeros(shape, dtype=np.float32)
    for x, y in pts:
        g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma * sigma))
        np.maximum(out, g, out=out)
    return out


def augment(
    fr: Frame, rng: np.random.Generator, *, pixel_peaks: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training sample: input (2, CROP, CROP), targets, loss masks.

    With ``pixel_peaks`` each heatmap Gaussian is centred on the pixel nearest its point, so
    that its peak is exactly 1 and the focal loss has one positive pixel per point (as in
    CenterNet, Zhou et al. 2019; the sub-pixel position is in the offsets and vectors).
    Without it the Gaussians are centred at the sub-pixel point and only points within
    ~0.2 px of a pixel centre give a positive (``gt > 0.99``): most bodies, and most crops
    with the sacrum, then train their heatmap with negatives only.
    """

    def peak(p: np.ndarray) -> np.ndarray:
        return np.round(p) if pixel_peaks else p

    img = fr.image ** float(np.exp(rng.uniform(-0.5, 0.5)))  # gamma
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.5)) / fr.spacing)
    if rng.random() < 0.3:
        img = img + rng.normal(0.0, rng.uniform(0.005, 0.04), img.shape).astype(np.float32)
    scale = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    aniso = float(rng.uniform(0.9, 1.1))
    ang = math.radians(float(rng.uniform(-20, 20)))
    flip = rng.random() < 0.5
    f = fr.spacing / GRID_MM * scale  # grid px per image px
    lin = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]]) @ np.diag(
        [f * aniso, f / aniso]
    )
    if flip:
        lin = np.diag([-1.0, 1.0]) @ lin
    names = list(fr.corners)
    if rng.random() < 0.85:
        c = fr.corners[names[int(rng.integers(len(names)))]].mean(axis=0)
        c = c + rng.normal(0.0, 30.0 / fr.spacing, 2)
    else:
        c = np.array([rng.uniform(0, img.shape[1]), rng.uniform(0, img.shape[0])])
    t = np.array([CROP / 2, CROP / 2]) - lin @ c
    mat = np.hstack([lin, t[:, None]])
    grid = to_grid(img, mat, (CROP, CROP), 1.0 / f)
    inv = cv2.invertAffineTransform(mat)
    yy, xx = np.mgrid[0:CROP, 0:CROP]
    sx = inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2]
    sy = inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2]
    valid = (sx > -0.5) & (sx < img.shape[1] - 0.5) & (sy > -0.5) & (sy < img.shape[0] - 0.5)
    x = normalise(grid, valid.astype(np.float32))
    # contrast inversion is not used: bone is bright in every supported input
    heat = np.zeros((N_HEAT, CROP, CROP), np.float32)
    reg = np.zeros((16, CROP, CROP), np.float32)
    mask = np.zeros((N_HEAT + 2, CROP, CROP), np.float32)
    mask[:N_HEAT] = 1.0
    if not fr.s1_known:
        mask[1] = 0.0
    for name, q in fr.corners.items():
        g = q @ lin.T + t
        g = _image_order(g)
        cen = g.mean(axis=0)
        ch = 1 if name == "S1" else 0
        cg = _gauss((CROP, CROP), peak(cen)[None], 1.5)
        np.maximum(heat[ch], cg, out=heat[ch])
        sel = cg > 0.4
        for k in range(4):
            kg = _gauss((CROP, CROP), peak(g[k])[None], 1.0)
            np.maximum(heat[2 + k], kg, out=heat[2 + k])
            ks = kg > 0.3
            reg[2 * k][ks] = (g[k][0] - xx)[ks]
            reg[2 * k + 1][ks] = (g[k][1] - yy)[ks]
            mask[N_HEAT][ks] = 1.0
            reg[8 + 2 * k][sel] = ((g[k][0] - xx) / CORNER_VEC_SCALE)[sel]
            reg[8 + 2 * k + 1][sel] = ((g[k][1] - yy) / CORNER_VEC_SCALE)[sel]
        mask[N_HEAT + 1][sel] = 1.0
    return x, np.concatenate([heat, reg]), mask


def build_model(torch: Any) -> Any:
    nn = torch.nn

    def block(cin: int, cout: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        )

    class Net(nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            w = WIDTHS
            self.enc = nn.ModuleList()
            for lv, c in enumerate(w):
                cin = 2 if lv == 0 else w[lv - 1]
                self.enc.append(nn.ModuleList([block(cin, c), block(c, c)]))
            self.dec = nn.ModuleList()
            for lv in range(len(w) - 1):
                self.dec.append(
                    nn.ModuleList([block(w[lv + 1] + w[lv], w[lv]), block(w[lv], w[lv])])
                )
            self.head = nn.Conv2d(w[0], OUT_CHANNELS, 1)
            with torch.no_grad():
                self.head.bias[:N_HEAT] = -4.0

        def forward(self, x: Any) -> Any:
            skips = []
            h = x
            for lv, (a, b) in enumerate(self.enc):
                if lv:
                    h = nn.functional.max_pool2d(h, 2)
                h = b(a(h))
                skips.append(h)
            for lv in range(len(self.dec) - 1, -1, -1):
                a, b = self.dec[lv]
                h = torch.cat([nn.functional.interpolate(h, scale_factor=2.0), skips[lv]], 1)
                h = b(a(h))
            return self.head(h)

    return Net()


def loss_fn(torch: Any, out: Any, tgt: Any, mask: Any) -> tuple[Any, Any, Any]:
    """CenterNet focal loss on heatmaps (Zhou et al. 2019) + masked L1 on the regressions."""
    logit = out[:, :N_HEAT]
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    gt = tgt[:, :N_HEAT]
    m = mask[:, :N_HEAT]
    pos = (gt > 0.99).float()
    neg_w = (1 - gt) ** 4
    lp = -(torch.log(p) * (1 - p) ** 2 * pos * m).sum()
    ln = -(torch.log(1 - p) * p**2 * neg_w * (1 - pos) * m).sum()
    heat = (lp + ln) / pos.mul(m).sum().clamp(min=1.0)
    r = out[:, N_HEAT:]
    t = tgt[:, N_HEAT:]
    mo = mask[:, N_HEAT : N_HEAT + 1]
    mv = mask[:, N_HEAT + 1 : N_HEAT + 2]
    # local offsets: only where that corner's own target is set (any corner mask approximates)
    lo = ((r[:, :8] - t[:, :8]).abs() * mo * (t[:, :8] != 0).float()).sum() / mo.sum().clamp(min=1)
    lv = ((r[:, 8:] - t[:, 8:]).abs() * mv).sum() / mv.sum().clamp(min=1)
    return heat, lo, lv


def export(torch: Any, model: Any, path: Path) -> int:
    """Fold batch norm into the convolutions and save as .npz (float16 weights)."""
    arrays: dict[str, np.ndarray] = {"widths": np.array(WIDTHS, dtype=np.int32)}

    def fold(seq: Any, name: str) -> None:
        conv, bn = seq[0], seq[1]
        s = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
        arrays[name + ".w"] = (
            (conv.weight.detach() * s[:, None, None, None]).numpy().astype(np.float16)
        )
        arrays[name + ".b"] = (bn.bias.detach() - bn.running_mean * s).numpy().astype(np.float32)

    for lv, (a, b) in enumerate(model.enc):
        fold(a, f"enc{lv}.0")
        fold(b, f"enc{lv}.1")
    for lv, (a, b) in enumerate(model.dec):
        fold(a, f"dec{lv}.0")
        fold(b, f"dec{lv}.1")
    arrays["head.w"] = model.head.weight.detach().numpy().astype(np.float16)
    arrays["head.b"] = model.head.bias.detach().numpy().astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=500, help="rendered training frames")
    ap.add_argument("--steps", type=int, default=2000, help="optimiser steps")
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--sharp-fraction",
        type=float,
        default=SHARP_FRACTION,
        help="share of CT films rendered with bone_model='sharp' (0: the 3 mm bone model only)",
    )
    ap.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads (1: robust on a busy CPU)"
    )
    ap.add_argument(
        "--subpixel-peaks",
        action="store_true",
        help="centre heatmap targets at sub-pixel points (before 2026-11-22: few positives)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep rendered frames in")
    ap.add_argument(
        "--checkpoint", type=Path, default=None, help="also export here every 400 steps"
    )
    ap.add_argument("--tiny", action="store_true", help="4 frames, 2 steps (smoke test)")
    a = ap.parse_args(argv)
    if a.tiny:
        a.frames, a.steps, a.batch = 4, 2, 2
    try:
        import torch
    except ImportError:
        ap.error("training needs PyTorch: pip install -r requirements/train.txt")
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)  # OpenCV's pool and PyTorch's fight over 2 cores otherwise
    t0 = time.perf_counter()
    tag = f"frames-{a.frames}-seed{a.seed}-sharp{a.sharp_fraction:g}"
    cache = a.cache / f"{tag}.pkl" if a.cache else None
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            frames = pickle.load(fh)
        print(f"loaded {len(frames)} frames from {cache}", flush=True)
    else:
        print(f"rendering {a.frames} frames (seed {a.seed}) ...", flush=True)
        frames = make_frames(a.frames, a.seed, log=not a.tiny, sharp_fraction=a.sharp_fraction)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with cache.open("wb") as fh:
                pickle.dump(frames, fh)
    t_render = time.perf_counter() - t0
    print(f"rendered {len(frames)} frames in {t_render:.0f} s", flush=True)
    model = build_model(torch)
    n_par = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=a.lr, total_steps=a.steps, pct_start=0.1
    )
    rng = np.random.default_rng(a.seed + 1)
    model.train()
    t1 = time.perf_counter()
    run = np.zeros(3)
    for step in range(a.steps):
        batch = [
            augment(frames[int(rng.integers(len(frames)))], rng, pixel_peaks=not a.subpixel_peaks)
            for _ in range(a.batch)
        ]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        tg = torch.from_numpy(np.stack([b[1] for b in batch]))
        mk = torch.from_numpy(np.stack([b[2] for b in batch]))
        out = model(x)
        h, lo, lv = loss_fn(torch, out, tg, mk)
        loss = h + lo + 2.0 * lv
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * np.array([h.item(), lo.item(), lv.item()])
        if a.checkpoint is not None and (step + 1) % 400 == 0:
            model.eval()
            export(torch, model, a.checkpoint)
            model.train()
        if (step + 1) % 50 == 0 or step == a.steps - 1:
            el = time.perf_counter() - t1
            print(
                f"step {step + 1}/{a.steps} heat {run[0]:.3f} off {run[1]:.3f} vec {run[2]:.3f} "
                f"({el:.0f} s, {el / (step + 1):.2f} s/step)",
                flush=True,
            )
    model.eval()
    size = export(torch, model, a.out)
    total = time.perf_counter() - t0
    print(
        f"wrote {a.out} ({size / 1024:.0f} KiB, {n_par} parameters); render {t_render:.0f} s, "
        f"train {time.perf_counter() - t1:.0f} s, total {total:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
