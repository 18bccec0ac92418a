"""Validate the generator: each vertebra is in the image where the truth says it is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dynaspine.phantom import generate
from dynaspine.phantom._anatomy import Layer
from dynaspine.phantom._ct_volume import fit_corners
from dynaspine.phantom._geometry import compose, rigid, rotation_about
from dynaspine.phantom._render import add_layer


def _quad_mask(shape: tuple[int, int], corners: np.ndarray, shrink: float = 0.15) -> np.ndarray:
    c = corners.mean(axis=0)
    q = c + (corners - c) * (1.0 - shrink)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(q * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _warp_back(frame: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Frame k resampled on the reference grid through the true transform (ref -> frame)."""
    h, w = frame.shape
    return cv2.warpAffine(
        frame.astype(np.float32), t, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    )


def _peak_offset(ref: np.ndarray, frame: np.ndarray, t: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sub-pixel offset (frame px) that best aligns the warped-back body with the reference."""
    offsets = np.arange(-3, 4)
    score = np.empty((offsets.size, offsets.size))
    for i, dy in enumerate(offsets):
        for j, dx in enumerate(offsets):
            back = _warp_back(frame, compose(rigid(0.0, float(dx), float(dy)), t))
            score[i, j] = _ncc(back[mask], ref[mask])
    i, j = np.unravel_index(np.argmax(score), score.shape)
    assert 0 < i < offsets.size - 1 and 0 < j < offsets.size - 1, "peak at the search edge"

    def vertex(m1: float, m0: float, p1: float) -> float:
        den = m1 - 2 * m0 + p1
        return 0.0 if den == 0 else 0.5 * (m1 - p1) / den

    dy = offsets[i] + vertex(score[i - 1, j], score[i, j], score[i + 1, j])
    dx = offsets[j] + vertex(score[i, j - 1], score[i, j], score[i, j + 1])
    return np.array([dx, dy]), float(score.max())


@pytest.fixture(scope="module")
def ct_lateral():
    return generate(
        anatomy="ct",
        view="lateral",
        program="static",
        dose="none",
        gas=False,
        shape=(224, 224),
        pixel_spacing_mm=1.2,
        enhance=0.0,
    )


@pytest.mark.parametrize("anatomy", ["ct", "parametric"])
def test_warping_back_by_the_truth_finds_each_vertebra_where_truth_says(anatomy: str) -> None:
    # vertebrae only (no soft tissue, pelvis or gas moving differently under them), large
    # motion: each body, resampled through its true transform, matches the reference
    s = generate(
        anatomy=anatomy,
        view="lateral",
        program="static",
        dose="none",
        gas=False,
        background=False,
        shape=(224, 224),
        pixel_spacing_mm=1.2,
        enhance=0.0,
    )
    ref = s.frames[0].astype(np.float32)
    checked = 0
    for k in (1, 2):  # flexion and extension films
        for name in ("L2", "L3", "L4", "L5"):
            if not np.isfinite(s.truth.corners[name][k]).all():
                continue
            t = s.truth.transforms[name][k]
            # the body and its edges (endplates, walls): where the structure is
            mask = _quad_mask(ref.shape, s.true_landmarks.vertebrae[name], shrink=-0.1)
            offset, best = _peak_offset(ref, s.frames[k], t, mask)
            assert np.hypot(*offset) < 0.3, (anatomy, k, name, offset)
            assert best > 0.95, (anatomy, k, name, best)
            # a wrong transform (3 deg about the body centre) matches clearly worse
            c = s.true_landmarks.vertebrae[name].mean(axis=0)
            wrong = compose(t, rotation_about(np.radians(3.0), c))
            assert _ncc(_warp_back(s.frames[k], wrong)[mask], ref[mask]) < best - 0.01
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("anatomy", ["ct", "parametric"])
def test_in_a_realistic_cine_each_vertebra_is_where_truth_says(anatomy: str) -> None:
    # everything on (soft tissue, pelvis, gas, drift, blur), small motion between frames;
    # compare high-passed images so the differently moving background weighs little
    s = generate(
        anatomy=anatomy,
        view="lateral",
        n_frames=40,
        dose="none",
        shape=(224, 224),
        pixel_spacing_mm=1.2,
        seed=3,
    )

    def hp(img: np.ndarray) -> np.ndarray:
        f = img.astype(np.float32)
        return f - cv2.GaussianBlur(f, (0, 0), 6.0)

    ref = hp(s.frames[0])
    for name in ("L2", "L3", "L4"):
        t = s.truth.transforms[name][4]
        mask = _quad_mask(ref.shape, s.true_landmarks.vertebrae[name], shrink=-0.1)
        offset, best = _peak_offset(ref, hp(s.frames[4]), t, mask)
        # the differently moving background and gas pull the match a little (what a
        # tracker faces); a convention error would be pixels off
        assert np.hypot(*offset) < 1.5, (anatomy, name, offset)
        assert best > 0.5, (anatomy, name, best)


def test_truth_corners_outline_the_vertebral_body_in_the_ct_image(ct_lateral) -> None:
    img = ct_lateral.frames[0].astype(np.float64)
    for name, c in ct_lateral.true_landmarks.vertebrae.items():
        if name == "S1":
            continue
        inside = _quad_mask(img.shape, c, shrink=0.2)
        ring = _quad_mask(img.shape, c, shrink=-0.45) & ~_quad_mask(img.shape, c, shrink=-0.1)
        # the body is denser than the soft tissue and discs around it
        assert img[inside].mean() > img[ring].mean(), name
        depth = np.linalg.norm(c[0] - c[1]) * ct_lateral.pixel_spacing_mm[0]
        height = np.linalg.norm(c[0] - c[3]) * ct_lateral.pixel_spacing_mm[0]
        assert 25 < depth < 50 and 18 < height < 40, (name, depth, height)


def test_bodies_stack_in_anatomical_order(ct_lateral) -> None:
    marks = ct_lateral.true_landmarks.vertebrae
    ys = [marks[n].mean(axis=0)[1] for n in ("L1", "L2", "L3", "L4", "L5", "S1")]
    assert ys == sorted(ys)
    for n in ("L1", "L3", "L5"):  # anterior (slots 0/3) is to the image left
        assert marks[n][0, 0] < marks[n][1, 0] and marks[n][3, 0] < marks[n][2, 0]


def test_moved_part_is_an_exact_rigid_copy() -> None:
    yy, xx = np.mgrid[0:40, 0:50].astype(np.float32)
    blob = np.exp(-((xx - 25) ** 2 + (yy - 20) ** 2) / 60.0).astype(np.float32)
    layer = Layer(image=blob, x0=30.0, y0=40.0)
    t = rotation_about(np.radians(7.0), (55.0, 60.0))
    t[:, 2] += (3.3, -2.1)
    out = np.zeros((128, 128), np.float32)
    add_layer(out, layer, t, np.zeros(2))
    back = _warp_back(out, t)
    ref = np.zeros((128, 128), np.float32)
    ref[40:80, 30:80] = blob
    assert np.abs(back - ref)[45:75, 35:75].max() < 0.01
    centre_ref = np.array([55.0, 60.0])
    moved = t[:, :2] @ centre_ref + t[:, 2]
    yy, xx = np.mgrid[0:128, 0:128]
    w = out.clip(0)
    got = np.array([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])
    assert np.allclose(got, moved, atol=0.05)


def test_fit_corners_recovers_a_tilted_box() -> None:
    rng = np.random.default_rng(0)
    ang = np.radians(12.0)
    u = np.array([np.cos(ang), np.sin(ang)])
    v = np.array([-np.sin(ang), np.cos(ang)])
    s = rng.uniform(-1, 1, size=(20000, 2)) * [17.5, 13.0]
    pts = s[:, :1] * u + s[:, 1:] * v + [100.0, 50.0]
    got = fit_corners(pts)
    want = np.array([[17.5, 13], [-17.5, 13], [-17.5, -13], [17.5, -13]]) @ np.stack([u, v]) + [
        100.0,
        50.0,
    ]
    assert np.abs(got - want).max() < 0.5


def test_moved_vertebra_uncovers_soft_tissue_not_a_hole(ct_lateral) -> None:
    # where L3 was on the reference, the flexion film shows no darker than soft tissue
    img0 = ct_lateral.frames[0].astype(float)
    img1 = ct_lateral.frames[1].astype(float)
    c0 = ct_lateral.true_landmarks.vertebrae["L3"]
    c1 = ct_lateral.truth.corners["L3"][1]
    was = _quad_mask(img0.shape, c0, shrink=0.2) & ~_quad_mask(img0.shape, c1, shrink=-0.3)
    if was.sum() < 10:
        pytest.skip("L3 did not move far enough")
    ring = _quad_mask(img0.shape, c0, shrink=-0.6) & ~_quad_mask(img0.shape, c0, shrink=-0.15)
    assert img1[was].mean() > 0.6 * img0[ring].mean()
    assert img1[was].min() > 0


def test_cone_beam_magnifies_by_depth_and_keeps_the_mid_plane_truth() -> None:
    kw = {
        "anatomy": "parametric",
        "program": "static",
        "dose": "none",
        "gas": False,
        "shape": (160, 160),
        "pixel_spacing_mm": 1.6,
        "drift": False,
    }
    par = generate(geometry="parallel", **kw)
    cone = generate(geometry="cone", magnification=1.3, **kw)
    for name in par.truth.names:
        assert np.allclose(par.truth.transforms[name], cone.truth.transforms[name])
    assert cone.truth.geometry == "cone" and cone.truth.notes
    assert not np.array_equal(par.frames, cone.frames)
    ref = cone.frames[0].astype(np.float32)
    mask = _quad_mask(ref.shape, cone.true_landmarks.vertebrae["L3"], shrink=-0.1)
    offset, best = _peak_offset(ref, cone.frames[1], cone.truth.transforms["L3"][1], mask)
    assert np.hypot(*offset) < 1.0 and best > 0.85


def test_noise_is_poisson_and_radiographs_are_quieter_than_fluoro() -> None:
    kw = {
        "anatomy": "parametric",
        "n_frames": 2,
        "shape": (128, 128),
        "pixel_spacing_mm": 2.0,
        "gas": False,
        "drift": False,
        "blur_mm": 0.0,
        "enhance": 0.0,
    }
    clean = generate(dose="none", **kw).frames[0].astype(float)
    fl = generate(dose="fluoro", **kw).frames[0].astype(float)
    rad = generate(dose="radiograph", **kw).frames[0].astype(float)
    sd_f = np.std(fl - clean)
    sd_r = np.std(rad - clean)
    assert sd_f > 5 * sd_r > 0
    # 100x the quanta -> about 10x less noise (Poisson)
    assert 6 < sd_f / sd_r < 14


def test_frames_are_12_bit_with_bone_bright() -> None:
    s = generate(anatomy="parametric", n_frames=2, shape=(128, 128), pixel_spacing_mm=2.0)
    assert s.frames.dtype == np.uint16 and s.frames.max() <= 4095
    img = s.frames[0].astype(float)
    c = s.true_landmarks.vertebrae["L3"]
    body = _quad_mask(img.shape, c, shrink=0.3)
    assert img[body].mean() > np.median(img)


def test_with_soft_tissue_each_ct_body_moves_rigidly_even_at_full_flexion() -> None:
    # The CT background (soft tissue, discs, abdomen) follows the bending spine smoothly;
    # it used to stay fixed while L1 rotated 50+ degrees through it, and the body regions
    # of the noise-free cine matched the reference by only 0.1-0.8 at the true pose.
    s = generate(
        anatomy="ct",
        view="lateral",
        n_frames=20,
        dose="none",
        gas=False,
        drift=False,
        shape=(224, 224),
        pixel_spacing_mm=1.2,
    )
    ref = s.frames[0].astype(np.float32)
    k = 5  # full flexion: L1 about 57 degrees from the reference
    angle = np.degrees(np.arctan2(*s.truth.transforms["L1"][k][::-1, 0]))
    assert abs(angle) > 45.0
    for name in ("L1", "L2", "L3", "L4", "L5"):
        mask = _quad_mask(ref.shape, s.true_landmarks.vertebrae[name], shrink=0.0)
        back = _warp_back(s.frames[k], s.truth.transforms[name][k])
        # L4 and L5 lie under the iliac crests, which move with the pelvis
        assert _ncc(back[mask], ref[mask]) > 0.93, name


def test_following_layer_is_exact_where_every_vertebra_moves_alike() -> None:
    from dynaspine.phantom._render import add_following_layer

    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.standard_normal((80, 90)).astype(np.float32), (0, 0), 2.0)
    layer = Layer(image=img, x0=-5.0, y0=-5.0, replicate=True)
    t = rigid(np.radians(7.0), 2.5, -1.5)
    centres = np.array([[20.0, 20.0], [40.0, 45.0], [60.0, 60.0]])
    a = np.zeros((70, 80), np.float32)
    b = np.zeros((70, 80), np.float32)
    add_layer(a, layer, t, np.zeros(2))
    whole = rigid(0.0, 0.0, 0.0)
    add_following_layer(b, layer, whole, [t, t, t], centres, np.zeros(2), sigma_px=10, range_px=1e6)
    # cv2.remap quantises the map to 1/32 pixel: agreement to a few % of the contrast
    tol = 0.05 * float(a.std())
    assert np.abs(a - b)[5:-5, 5:-5].max() < tol
    # far from every vertebra (range 1 px) the layer moves with the whole spine
    c = np.zeros((70, 80), np.float32)
    add_following_layer(c, layer, whole, [t, t, t], centres, np.zeros(2), sigma_px=10, range_px=1.0)
    d = np.zeros((70, 80), np.float32)
    add_layer(d, layer, whole, np.zeros(2))
    assert np.abs(c - d)[0:10, 60:75].max() < tol
    assert abs(c[45, 40] - a[45, 40]) < tol  # at a vertebra's centre it follows it
    assert np.abs(c - a)[0:10, 60:75].max() > 10 * tol


@pytest.mark.parametrize("meter_window", [True, False])
def test_exposure_is_metered_on_the_spine_window_or_the_whole_field(meter_window: bool) -> None:
    # A thick "spine" (line integral 2) in a quarter of the field, thin tissue (0) elsewhere.
    # Metered on the spine window, the spine gets the table's quanta per mm^2; metered on the
    # whole field (median: thin tissue), exp(-2) of them, so its noise is e times higher.
    from dynaspine.phantom._render import Detector

    ref = np.zeros((128, 128), np.float32)
    ref[32:96, 32:64] = 2.0
    ref[32:40, 32:64] = 3.0  # a denser strip, so the display window leaves room above 2
    quanta = 400.0
    det = Detector(
        ref,
        pixel_spacing_mm=1.0,
        quanta_per_mm2=quanta,
        blur_fwhm_mm=0.0,
        window_box=(24, 28, 72, 100),
        meter_window=meter_window,
    )
    rng = np.random.default_rng(5)
    a = det.expose(ref, rng).astype(float)
    b = det.expose(ref, rng).astype(float)
    # log-domain noise of one frame in the spine: sd(log N) = 1 / sqrt(N)
    sd = np.std((a - b)[42:94, 34:62]) / np.sqrt(2.0) / det.scale
    counts = quanta if meter_window else quanta * np.exp(-2.0)
    assert sd == pytest.approx(1.0 / np.sqrt(counts), rel=0.1)
