"""Regenerate the phantom pictures in docs/img (``python docs/img/phantom-figures.py [bone]``).

With ``bone`` only the bone-model comparison (phantom-bone.png) is redrawn.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynaspine.phantom import generate  # noqa: E402

HERE = Path(__file__).parent


def panel(studies, titles, out, *, overlay=False, frames=None, size=3.6):
    n = len(titles)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size), dpi=110)
    for i, (ax, title) in enumerate(zip(np.atleast_1d(axes), titles, strict=True)):
        s, k = studies[i] if isinstance(studies, list) else (studies, frames[i])
        ax.imshow(s.frames[k], cmap="gray", vmin=0, vmax=4095, interpolation="bilinear")
        if overlay:
            for c in s.truth.corners.values():
                q = c[k]
                if np.isfinite(q).all():
                    ax.plot(*np.vstack([q, q[:1]]).T, "-", color="#ff5050", lw=0.8)
                    ax.plot(*q[0], "o", color="#ffd000", ms=2.5)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, facecolor="black" if not overlay else "white")
    plt.close(fig)


def main() -> None:
    lat = generate(anatomy="ct", view="lateral", program="static", dose="radiograph", seed=2)
    panel(lat, ["neutral", "full flexion", "full extension"], HERE / "phantom-ct-lateral.png",
          frames=[0, 1, 2])
    panel(lat, ["neutral: true corners", "flexion", "extension"], HERE / "phantom-truth.png",
          frames=[0, 1, 2], overlay=True)
    ap = generate(anatomy="ct", view="ap", program="static", dose="radiograph", seed=2)
    panel(ap, ["AP neutral", "left bending", "right bending"], HERE / "phantom-ct-ap.png",
          frames=[0, 1, 2])
    cine = generate(anatomy="ct", view="lateral", n_frames=40, dose="fluoro", seed=1)
    panel(cine, [f"fluoro frame {k}" for k in (0, 10, 20, 30)], HERE / "phantom-cine.png",
          frames=[0, 10, 20, 30])
    par = [
        (generate(anatomy="parametric", view="lateral", program="static", dose="radiograph"), 1),
        (generate(anatomy="parametric", view="ap", program="static", dose="radiograph"), 1),
        (generate(anatomy="parametric", vertebrae=["C2", "C3", "C4", "C5", "C6", "C7", "T1"],
                  program="static", dose="radiograph", pixel_spacing_mm=0.3), 1),
        (generate(anatomy="ct", geometry="cone", magnification=1.3, program="static",
                  dose="radiograph"), 1),
    ]
    panel(par, ["parametric L1-S1 flexion", "parametric AP left bending",
                "parametric C2-T1 flexion", "CT, cone beam x1.3"], HERE / "phantom-more.png")


def bone() -> None:
    """The 3 mm CT bone and the sharp bone model, whole film and L3 with its true corners."""
    films = {
        m: generate(anatomy="ct", view="lateral", program="static", positions=["neutral"],
                    dose="radiograph", seed=1, bone_model=m)
        for m in ("ct", "sharp")
    }
    fig, axes = plt.subplots(1, 4, figsize=(14.4, 4.0), dpi=110)
    for i, (m, s) in enumerate(films.items()):
        img = s.frames[0]
        axes[i].imshow(img, cmap="gray", vmin=0, vmax=4095, interpolation="bilinear")
        axes[i].set_title(f"bone_model={m!r}", fontsize=9)
        c = s.true_landmarks.vertebrae["L3"]
        x0, y0 = (c.mean(axis=0) - 50).astype(int)
        ax = axes[2 + i]
        ax.imshow(img[y0:y0 + 100, x0:x0 + 100], cmap="gray", interpolation="nearest",
                  extent=(x0 - 0.5, x0 + 99.5, y0 + 99.5, y0 - 0.5))
        q = np.vstack([c, c[:1]])
        ax.plot(*q.T, "-", color="#ff5050", lw=0.6)
        ax.plot(*c.T, "o", color="#ffd000", ms=3)
        ax.set_title(f"L3 and its true corners, {m!r} (50 x 50 mm)", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(HERE / "phantom-bone.png", facecolor="white")
    plt.close(fig)


if __name__ == "__main__":
    if sys.argv[1:] == ["bone"]:
        bone()
    else:
        main()
        bone()
