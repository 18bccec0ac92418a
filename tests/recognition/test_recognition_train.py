"""Training targets of scripts/train_recognition.py (no PyTorch needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
try:
    import train_recognition as tr
finally:
    sys.path.pop(0)


def _frame() -> tr.Frame:
    img = np.zeros((200, 160), np.float32)
    corners = {}
    for i, name in enumerate(["L4", "L5", "S1"]):
        y0 = 30.0 + 55.0 * i + 0.37 * i
        q = np.array([[50.3, y0], [100.6, y0 + 2.1], [99.8, y0 + 30.2], [49.7, y0 + 28.4]])
        corners[name] = q
        img[int(y0) : int(y0 + 29), 50:100] = 1.0
    return tr.Frame(image=img, spacing=1.0, corners=corners, view="lateral", s1_known=True)


def test_every_body_in_the_crop_gets_a_positive_heatmap_pixel() -> None:
    fr = _frame()
    pos_px = {True: 0, False: 0}
    for pixel_peaks in (True, False):
        rng = np.random.default_rng(4)
        for _ in range(20):
            _, tgt, _ = tr.augment(fr, rng, pixel_peaks=pixel_peaks)
            # focal-loss positives are target pixels above 0.99 (loss_fn)
            pos_px[pixel_peaks] += int((tgt[: tr.N_HEAT] > 0.99).sum())
            if pixel_peaks:
                for ch in range(tr.N_HEAT):
                    blobs = tgt[ch] > 0.5
                    if blobs.any():
                        assert tgt[ch].max() > 0.999
    # sub-pixel centres leave most points without a positive (the bug this fixed)
    assert pos_px[True] > 4 * pos_px[False]
