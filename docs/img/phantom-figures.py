"""Regenerate the phantom pictures in docs/img (``python docs/img/phantom-figures.py``)."""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
