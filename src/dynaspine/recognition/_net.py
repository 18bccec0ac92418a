"""Learned stage: a small fully convolutional network, run in NumPy (no deep-learning runtime).

The network (a 4-level U-Net, Ronneberger et al., "U-Net: convolutional networks for
biomedical image segmentation", MICCAI 2015, with CenterNet-style outputs, Zhou et al.,
"Objects as points", arXiv:1904.07850, 2019) sees the frame resampled to ``GRID_MM`` per
pixel and normalised (local contrast and global robust scale), and predicts per pixel:

- heatmaps (sigmoid) of vertebral-body centres (L/T bodies; S1 separately) and of the four
  corners in image terms (superior-left, superior-right, inferior-right, inferior-left);
- for each corner type, the sub-pixel offset from the pixel to the corner;
- at centres, the vectors from the centre to the four corners (grouping).

It was trained by ``scripts/train_recognition.py`` on phantom DRRs (see
``data/vertebra_net.md``); the weights (batch norm folded into the convolutions) are in
``data/vertebra_net.npz``. Training needs PyTorch; inference here needs only NumPy/SciPy/OpenCV.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from dynaspine.errors import DataError

F32 = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.float64]

GRID_MM = 2.0
"""Pixel size (mm at the patient) of the network's input and output grid."""
LCN_MM = 24.0
"""Gaussian sigma (mm) of the local mean and contrast used to normalise the input."""
N_HEAT = 6  # body centre, S1 centre, 4 corners
CORNER_VEC_SCALE = 10.0  # centre->corner vectors are predicted in units of 10 grid pixels
OUT_CHANNELS = N_HEAT + 8 + 8
LEVELS = 4  # the input must be a multiple of 2**(LEVELS-1)


def to_grid(
    image: npt.ArrayLike, matrix: FloatArray, out_shape: tuple[int, int], factor: float
) -> F32:
    """Resample ``image`` by the 2x3 affine ``matrix`` (image px -> grid px), anti-aliased.

    ``factor`` is the image pixels per grid pixel (the downsampling): the image is blurred
    by a Gaussian of 0.45 ``factor`` pixels first, then warped bilinearly.
    """
    img: F32 = np.asarray(image, dtype=np.float32)
    if factor > 1.0:
        img = np.asarray(
            cv2.GaussianBlur(img, (0, 0), 0.45 * factor, borderType=cv2.BORDER_REFLECT),
            dtype=np.float32,
        )
    out = cv2.warpAffine(
        img,
        np.asarray(matrix, dtype=np.float64),
        (int(out_shape[1]), int(out_shape[0])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    return np.asarray(out, dtype=np.float32)


def normalise(grid: F32, valid: F32 | None = None) -> F32:
    """Two input channels: local contrast normalisation and a global robust scale."""
    g = grid.astype(np.float64)
    s = LCN_MM / GRID_MM
    mean = ndimage.gaussian_filter(g, s, mode="reflect")
    hp = g - mean
    sd = np.sqrt(ndimage.gaussian_filter(hp * hp, s, mode="reflect"))
    floor = max(1e-6, float(np.median(sd)) * 0.2)
    lcn = np.clip(hp / np.maximum(sd, floor), -5.0, 5.0)
    med = float(np.median(g))
    q = np.percentile(g, [10.0, 90.0])
    glob = np.clip((g - med) / max(1e-6, float(q[1] - q[0])), -3.0, 3.0)
    x = np.stack([lcn, glob]).astype(np.float32)
    if valid is not None:
        x *= valid[None]
    return x


@dataclass(frozen=True)
class Weights:
    """Convolution weights (batch norm folded): name -> (kernel (O, I, k, k), bias (O,))."""

    layers: dict[str, tuple[F32, F32]]
    widths: tuple[int, ...]


_OVERRIDE: list[str] = []


def use_weights(path: str | None) -> None:
    """Use the weights file ``path`` instead of the bundled one (``None``: bundled).

    For evaluating a freshly trained network (benchmarks, the training script).
    """
    _OVERRIDE[:] = [] if path is None else [str(path)]
    load_weights.cache_clear()


@lru_cache(maxsize=1)
def load_weights() -> Weights:
    """The bundled weights ``data/vertebra_net.npz`` (or those given to :func:`use_weights`)."""
    try:
        if _OVERRIDE:
            with open(_OVERRIDE[0], "rb") as fh:
                raw = fh.read()
        else:
            raw = (
                resources.files("dynaspine.recognition")
                .joinpath("data/vertebra_net.npz")
                .read_bytes()
            )
        with np.load(io.BytesIO(raw)) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        where = _OVERRIDE[0] if _OVERRIDE else "data/vertebra_net.npz"
        raise DataError(
            f"recognition weights {where} are unreadable: {exc}",
            hint="reinstall dynaspine, or retrain with scripts/train_recognition.py",
        ) from None
    widths = tuple(int(v) for v in arrays.pop("widths"))
    names = sorted({k.rsplit(".", 1)[0] for k in arrays})
    layers = {
        n: (arrays[n + ".w"].astype(np.float32), arrays[n + ".b"].astype(np.float32)) for n in names
    }
    return Weights(layers=layers, widths=widths)


def _conv(x: F32, wb: tuple[F32, F32], relu: bool = True) -> F32:
    """Same-padded 2-D convolution (cross-correlation, as PyTorch) via im2col."""
    w, b = wb
    o, i, k, _ = w.shape
    c, h, wd = x.shape
    if k == 1:
        y = w.reshape(o, i) @ x.reshape(c, h * wd)
    else:
        p = k // 2
        xp = np.pad(x, ((0, 0), (p, p), (p, p)))
        cols = np.empty((c, k, k, h, wd), dtype=np.float32)
        for dy in range(k):
            for dx in range(k):
                cols[:, dy, dx] = xp[:, dy : dy + h, dx : dx + wd]
        y = w.reshape(o, i * k * k) @ cols.reshape(c * k * k, h * wd)
    y = y.reshape(o, h, wd) + b[:, None, None]
    return np.maximum(y, 0.0, out=y) if relu else y


def _pool(x: F32) -> F32:
    c, h, w = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


def _up(x: F32) -> F32:
    return x.repeat(2, axis=1).repeat(2, axis=2)


def forward(x: F32, wts: Weights | None = None) -> F32:
    """Network outputs (``OUT_CHANNELS``, H, W) for input (2, H, W); H, W multiples of 8.

    Heatmap channels are returned as probabilities (sigmoid applied).
    """
    wts = wts or load_weights()
    L = wts.layers
    skips = []
    h = x
    for lv in range(LEVELS):
        if lv:
            h = _pool(h)
        h = _conv(h, L[f"enc{lv}.0"])
        h = _conv(h, L[f"enc{lv}.1"])
        skips.append(h)
    for lv in range(LEVELS - 2, -1, -1):
        h = np.concatenate([_up(h), skips[lv]], axis=0)
        h = _conv(h, L[f"dec{lv}.0"])
        h = _conv(h, L[f"dec{lv}.1"])
    out = _conv(h, L["head"], relu=False)
    out[:N_HEAT] = 1.0 / (1.0 + np.exp(-np.clip(out[:N_HEAT], -30, 30)))
    return out


def unflip(out: F32) -> F32:
    """Outputs for a left-right mirrored input, mapped back to the unmirrored grid.

    Mirroring swaps image left and right: superior-left <-> superior-right and
    inferior-right <-> inferior-left, and negates every x component.
    """
    o = out[:, :, ::-1].copy()
    perm = [1, 0, 3, 2]  # sl<->sr, ir<->il
    res = o.copy()
    for k, j in enumerate(perm):
        res[2 + k] = o[2 + j]
        for base in (N_HEAT, N_HEAT + 8):
            res[base + 2 * k] = -o[base + 2 * j]
            res[base + 2 * k + 1] = o[base + 2 * j + 1]
    return res


def predict(
    image: npt.ArrayLike, pixel_spacing_mm: tuple[float, float], *, flip_average: bool = True
) -> tuple[F32, FloatArray]:
    """Run the network on a whole frame.

    With ``flip_average`` the network also sees the left-right mirrored frame and the two
    outputs are averaged (test-time augmentation; the network was trained with mirroring).
    Returns the outputs on the grid and the 2x3 affine grid px -> image px.
    """
    img = np.asarray(image, dtype=np.float32)
    sy, sx = pixel_spacing_mm
    rows = max(8, math.ceil(img.shape[0] * sy / GRID_MM / 8.0) * 8)
    cols = max(8, math.ceil(img.shape[1] * sx / GRID_MM / 8.0) * 8)
    fwd = np.array([[sx / GRID_MM, 0.0, 0.0], [0.0, sy / GRID_MM, 0.0]])
    # pixel centres: grid (u + 0.5) * G = image (x + 0.5) * s
    fwd[0, 2] = 0.5 * sx / GRID_MM - 0.5
    fwd[1, 2] = 0.5 * sy / GRID_MM - 0.5
    factor = GRID_MM / math.sqrt(sx * sy)
    grid = to_grid(img, fwd, (rows, cols), factor)
    valid = np.zeros((rows, cols), dtype=np.float32)
    vr = min(rows, round(img.shape[0] * sy / GRID_MM))
    vc = min(cols, round(img.shape[1] * sx / GRID_MM))
    valid[:vr, :vc] = 1.0
    x = normalise(grid, valid)
    out = forward(x)
    if flip_average:
        out = 0.5 * (out + unflip(forward(np.ascontiguousarray(x[:, :, ::-1]))))
    inv = cv2.invertAffineTransform(fwd)
    return out, np.asarray(inv, dtype=np.float64)


@dataclass
class NetBody:
    """One body decoded from the network, in grid pixels.

    ``corners``: superior-left, superior-right, inferior-right, inferior-left (image terms).
    """

    corners: FloatArray
    centre_score: float
    corner_scores: FloatArray
    sacrum: bool

    @property
    def confidence(self) -> float:
        """Weakest of centre and corner heatmap peaks (0..1)."""
        return float(min(self.centre_score, float(np.min(self.corner_scores))))


def _peaks(hm: F32, threshold: float) -> list[tuple[int, int, float]]:
    mx = ndimage.maximum_filter(hm, size=5, mode="constant")
    ys, xs = np.nonzero((hm == mx) & (hm >= threshold))
    return [(int(y), int(x), float(hm[y, x])) for y, x in zip(ys, xs, strict=True)]


def _refine_corner(hm: F32, off: F32, guess: FloatArray, radius: float) -> tuple[FloatArray, float]:
    """Corner near ``guess``: heatmap peak within ``radius``, plus sub-pixel offset."""
    h, w = hm.shape
    x0, y0 = float(guess[0]), float(guess[1])
    r = math.ceil(radius)
    ya, yb = max(0, round(y0) - r), min(h, round(y0) + r + 1)
    xa, xb = max(0, round(x0) - r), min(w, round(x0) + r + 1)
    if ya >= yb or xa >= xb:
        return guess.copy(), 0.0
    win = hm[ya:yb, xa:xb]
    yy, xx = np.mgrid[ya:yb, xa:xb]
    win = np.where((yy - y0) ** 2 + (xx - x0) ** 2 <= radius * radius, win, -1.0)
    k = np.unravel_index(int(np.argmax(win)), win.shape)
    py, px = ya + int(k[0]), xa + int(k[1])
    score = float(hm[py, px])
    # average of (pixel + offset) over the 3x3 neighbourhood, weighted by the heatmap
    pts, wsum = np.zeros(2), 0.0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            qy, qx = py + dy, px + dx
            if 0 <= qy < h and 0 <= qx < w:
                wt = float(hm[qy, qx]) ** 2
                pts += wt * np.array([qx + off[0, qy, qx], qy + off[1, qy, qx]])
                wsum += wt
    return (pts / wsum if wsum > 0 else np.array([px, py], dtype=np.float64)), score


def decode(out: F32, *, peak_threshold: float = 0.2, search_px: float = 3.0) -> list[NetBody]:
    """Bodies from the network outputs (grid pixels)."""
    bodies: list[NetBody] = []
    for ch, sacrum in ((0, False), (1, True)):
        for y, x, s in _peaks(out[ch], peak_threshold):
            vec = out[N_HEAT + 8 : N_HEAT + 16, y, x].reshape(4, 2) * CORNER_VEC_SCALE
            corners = np.zeros((4, 2))
            scores = np.zeros(4)
            for k in range(4):
                guess = np.array([x, y], dtype=np.float64) + vec[k]
                off = out[N_HEAT + 2 * k : N_HEAT + 2 * k + 2]
                corners[k], scores[k] = _refine_corner(out[2 + k], off, guess, search_px)
            bodies.append(NetBody(corners, s, scores, sacrum))
    return bodies
