"""The sharp bone model of the CT phantom (``bone_model="sharp"``, docs/phantom.md)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from dynaspine.errors import PhantomError
from dynaspine.phantom import generate
from dynaspine.phantom._ct import build_ct

SP = 0.5
LEVELS = ["L2", "L3", "L4"]


def _film(bone_model: str, **kw):  # type: ignore[no-untyped-def]
    args = {
        "anatomy": "ct",
        "view": "lateral",
        "program": "static",
        "positions": ["neutral", "flexion"],
        "dose": "none",
        "gas": False,
        "drift": False,
        "enhance": 0.0,
        "texture": 0.0,
        "blur_mm": 0.3,
        "shape": (256, 256),
        "pixel_spacing_mm": SP,
        "vertebrae": LEVELS,
        "bone_model": bone_model,
    }
    return generate(**(args | kw))


@pytest.fixture(scope="module")
def films():  # type: ignore[no-untyped-def]
    return {m: _film(m) for m in ("ct", "sharp")}


def _profile(img: np.ndarray, p: np.ndarray, n: np.ndarray, half_mm: float = 5.0):
    """Image values along ``p + t n`` (t in mm, n a unit vector in pixels), 0.1 mm steps."""
    t = np.arange(-half_mm, half_mm + 1e-9, 0.1)
    xy = p[None, :] + (t / SP)[:, None] * n[None, :]
    vals = ndimage.map_coordinates(img.astype(np.float64), [xy[:, 1], xy[:, 0]], order=1)
    return t, vals


def _sides(c: np.ndarray):  # type: ignore[no-untyped-def]
    """Mid-point and outward unit normal (pixels) of each side of a body's quadrilateral."""
    centre = c.mean(axis=0)
    for i, j in ((0, 1), (1, 2), (2, 3), (3, 0)):
        mid = 0.5 * (c[i] + c[j])
        d = c[j] - c[i]
        nrm = np.array([-d[1], d[0]]) / np.linalg.norm(d)
        if nrm @ (mid - centre) < 0:
            nrm = -nrm
        yield (i, j), mid, nrm


def test_sharp_bone_has_a_much_narrower_endplate_edge_than_the_3mm_ct(films) -> None:
    for name in LEVELS:
        widths = {}
        for model, s in films.items():
            c = s.true_landmarks.vertebrae[name]
            img = s.frames[0]
            w = []
            for (i, j), mid, nrm in _sides(c):
                if (i, j) not in ((0, 1), (2, 3)):  # the endplates
                    continue
                t, v = _profile(img, mid, nrm)
                # the fall from the brightest point at the edge to the disc beyond it,
                # over the steepest slope of that fall: the width of the edge in mm
                peak = float(v[(t > -2.0) & (t < 1.0)].max())
                step = peak - float(np.median(v[t > 3.0]))
                assert step > 0, (model, name, "no edge")
                slope = -np.gradient(v, t).min()
                w.append(step / slope)
            widths[model] = float(np.mean(w))
        assert widths["sharp"] < 0.5 * widths["ct"], (name, widths)
        assert widths["sharp"] < 1.5, (name, widths)


def test_sharp_truth_corners_sit_on_the_rendered_body_edges(films) -> None:
    s = films["sharp"]
    img = s.frames[0]
    for name in LEVELS:
        c = s.true_landmarks.vertebrae[name]
        for side, mid, nrm in _sides(c):
            t, v = _profile(img, mid, nrm)
            g = np.gradient(v, t)
            edge = float(t[np.argmin(g)])  # steepest outward fall: the outer bone surface
            assert abs(edge) < 1.0, (name, side, edge)


def test_truth_is_consistent_with_the_sharp_rendered_motion() -> None:
    # vertebrae only: each body, warped back by its true transform, matches the reference
    import cv2

    s = _film("sharp", background=False)
    ref = s.frames[0].astype(np.float32)
    h, w = ref.shape
    for name in LEVELS:
        c = s.true_landmarks.vertebrae[name]
        mask = np.zeros(ref.shape, np.uint8)
        q = c.mean(axis=0) + (c - c.mean(axis=0)) * 1.1
        cv2.fillPoly(mask, [np.round(q).astype(np.int32)], 1)
        sel = mask.astype(bool)
        t = s.truth.transforms[name][1]
        back = cv2.warpAffine(
            s.frames[1].astype(np.float32), t, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
        )
        a, b = back[sel] - back[sel].mean(), ref[sel] - ref[sel].mean()
        ncc = float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
        assert ncc > 0.95, (name, ncc)


def test_sharp_model_conserves_the_total_attenuation() -> None:
    totals = {}
    for model in ("ct", "sharp"):
        anat, _ = build_ct(
            view="lateral",
            names=None,
            shape=(384, 384),
            pixel_spacing_mm=1.0,
            rng=np.random.default_rng(0),
            bone_model=model,
        )
        parts = {n: sum(float(la.image.sum()) for la in p.layers) for n, p in anat.parts.items()}
        m = 64  # the background layers extend 64 px beyond the field
        parts["background"] = sum(float(la.image[m:-m, m:-m].sum()) for la in anat.background)
        parts["pelvis"] = sum(float(la.image.sum()) for la in anat.rigid_background)
        totals[model] = parts
    for name in ("L1", "L2", "L3", "L4", "L5"):
        ct, sharp = totals["ct"][name], totals["sharp"][name]
        # the sharp part also takes over the blur of its bone that the 3 mm CT spread
        # outside its mask (which the background then no longer holds)
        assert 1.05 < sharp / ct < 1.35, (name, ct, sharp)
    # the sum over the field, patient and vertebrae, is the same line-integral mass
    all_ct, all_sharp = sum(totals["ct"].values()), sum(totals["sharp"].values())
    assert abs(all_sharp / all_ct - 1.0) < 0.002, (all_ct, all_sharp)


def test_sharp_films_are_deterministic_per_seed() -> None:
    kw = {"dose": "fluoro", "texture": 0.15, "gas": True, "drift": True}
    a = _film("sharp", seed=4, **kw)
    b = _film("sharp", seed=4, **kw)
    c = _film("sharp", seed=5, **kw)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert a.metadata["bone_model"] == "sharp"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"bone_model": "fine"}, "unknown bone_model"),
        ({"bone_model": "sharp", "anatomy": "parametric"}, "needs anatomy='ct'"),
        ({"bone_model": "sharp", "axial_coupling": 0.3}, "axial_coupling"),
    ],
)
def test_bad_bone_model_settings_are_refused_clearly(kw: dict, words: str) -> None:
    with pytest.raises(PhantomError, match=words):
        generate(**({"n_frames": 4, "shape": (64, 64)} | kw))


def test_cli_bone_option(tmp_path) -> None:
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dynaspine", "phantom", str(tmp_path / "o"), "--quiet", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    bad = cli("--bone", "fine")
    assert bad.returncode == 2 and "--bone" in bad.stderr and "Traceback" not in bad.stderr
    ok = cli("--bone", "sharp", "--frames", "2", "--size", "64", "--pixel-spacing", "3")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o" / "truth.json").is_file()


def test_ct_default_is_the_sharp_bone_except_with_axial_coupling() -> None:
    kw = {"n_frames": 2, "shape": (64, 64), "pixel_spacing_mm": 3.0, "dose": "none"}
    plain = generate(**kw)
    assert plain.metadata["bone_model"] == "sharp"
    assert plain.metadata["metering"] == "spine"
    assert generate(axial_coupling=0.2, **kw).metadata["bone_model"] == "ct"
    assert generate(anatomy="parametric", **kw).metadata["bone_model"] == "ct"
    with pytest.raises(PhantomError, match="metering"):
        generate(metering="centre", **kw)  # type: ignore[arg-type]
