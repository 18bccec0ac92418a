"""Plots of the report (matplotlib, Agg canvas per figure; no pyplot, no global rcParams).

- IVR per level against frame (or time; films by position);
- IVR per level against the global angle change (cine): the slope is the attainment rate
  and the spread between levels is what motion sharing measures (Breen & Breen 2018);
- range of motion per level as bars against the normal range and the instability threshold;
- key frames with the tracked vertebrae drawn on them.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from dynaspine.report._preview import PALETTE, draw_frame, window

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dynaspine.report._model import Report, Series

_STYLE: dict[str, Any] = {
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "legend.fontsize": 7.0,
}


def _figure(width_in: float = 6.4, height_in: float = 3.0) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _styled(draw: Any) -> Any:
    """Run a drawing function under local style settings (restored afterwards)."""
    import matplotlib

    def wrapped(*args: Any, **kwargs: Any) -> bytes | None:
        with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
            result: bytes | None = draw(*args, **kwargs)
            return result

    return wrapped


def _series_x(series: Series) -> tuple[list[float], str]:
    times = series.frame_times_s
    if series.kind == "cine" and times and all(t is not None for t in times):
        return [float(t) for t in times], "time (s)"  # type: ignore[arg-type]
    return [float(i) for i in range(series.n_frames)], (
        "frame" if series.kind == "cine" else "film"
    )


def _ivr_label(view: str) -> str:
    return "IVR (deg, flexion +)" if view == "lateral" else "IVR (deg, left bending +)"


@_styled
def plot_ivr_frames(series: Series) -> bytes | None:
    """IVR of every level against frame/time (films: against position)."""
    if not series.ivr:
        return None
    x, xlabel = _series_x(series)
    fig = _figure()
    ax: Axes = fig.add_subplot()
    marker = "o" if series.kind == "films" or series.n_frames <= 40 else None
    for k, (level, ys) in enumerate(series.ivr.items()):
        yv = [float("nan") if v is None else v for v in ys]
        ax.plot(x, yv, marker=marker, ms=3, lw=1.4, color=PALETTE[k % len(PALETTE)], label=level)
    ax.axhline(0.0, color="0.6", lw=0.8)
    if series.kind == "films" and series.positions:
        ax.set_xticks(x, series.positions)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_ivr_label(series.view))
    ax.set_title(f"Intervertebral rotation per level: {series.title}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", ncols=min(4, len(series.ivr)))
    return _png(fig)


@_styled
def plot_ivr_global(series: Series) -> bytes | None:
    """IVR of every level against the global angle change (cine only)."""
    if series.kind != "cine" or not series.ivr:
        return None
    g = series.global_ivr
    if sum(v is not None for v in g) < 2:
        return None
    fig = _figure()
    ax: Axes = fig.add_subplot()
    for k, (level, ys) in enumerate(series.ivr.items()):
        pts = [(a, b) for a, b in zip(g, ys, strict=False) if a is not None and b is not None]
        if pts:
            ax.plot(
                *zip(*pts, strict=True),
                marker=".",
                lw=1.0,
                color=PALETTE[k % len(PALETTE)],
                label=level,
            )
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("global angle change (deg)")
    ax.set_ylabel(_ivr_label(series.view))
    ax.set_title("Intervertebral rotation against global (regional) motion")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", ncols=min(4, len(series.ivr)))
    return _png(fig)


@_styled
def plot_rom_bars(report: Report) -> bytes | None:
    """ROM per level: bars, the normal range (grey band) and the flag threshold (red tick)."""
    rows = [(lv, m) for lv in report.levels if (m := lv.get("rom_deg")) is not None]
    if not rows:
        return None
    fig = _figure(6.4, 0.5 + 0.45 * len(rows) + 0.8)
    ax: Axes = fig.add_subplot()
    names = [
        f"{lv.level}" + ("" if len({r.series for r, _ in rows}) == 1 else f" ({lv.source})")
        for lv, _ in rows
    ]
    ys = list(range(len(rows)))[::-1]
    for y, (lv, m) in zip(ys, rows, strict=True):
        if m.normal and m.normal.get("low") is not None and m.normal.get("high") is not None:
            lo, hi = max(0.0, m.normal["low"]), m.normal["high"]
            ax.barh(
                y,
                hi - lo,
                left=lo,
                height=0.8,
                color="0.85",
                zorder=1,
                label="normal range" if y == ys[0] else None,
            )
        value = m.value if m.value is not None else 0.0
        colour = "#D55E00" if m.flags or (m.normal or {}).get("status") == "above" else "#0072B2"
        ax.barh(y, value, height=0.45, color=colour, zorder=2)
        ax.text(value, y, f" {m.text}", va="center", fontsize=7, zorder=3)
        checks = _checks(report, lv.level) or lv.flags
        for c in [c for c in checks if c.get("quantity") == "rom_deg"][:1]:
            ax.plot(
                [c["threshold"]] * 2,
                [y - 0.4, y + 0.4],
                color="red",
                lw=1.2,
                ls="--",
                zorder=3,
                label="instability threshold" if y == ys[0] else None,
            )
    ax.set_yticks(ys, names)
    ax.set_xlabel("range of motion (deg)")
    ax.set_title("Range of motion per level against normal ranges")
    ax.set_xlim(left=0.0)
    ax.grid(axis="x", alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="lower right")
    return _png(fig)


def _checks(report: Report, level: str) -> list[dict[str, Any]]:
    if report.result is None:
        return []
    lv = report.result["levels"].get(level) or {}
    return [c for c in lv.get("checks") or [] if c.get("threshold") is not None]


def key_frame_png(series: Series, index: int, caption: str, *, max_size: int = 420) -> bytes:
    """A key frame with the tracked vertebrae drawn on it, as PNG."""
    assert series.images is not None
    img = draw_frame(
        series, index, max_size=max_size, win=window(series.images.frames), caption=caption
    )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def make_figures(report: Report) -> dict[str, bytes]:
    """Every figure of the report, by name: ``ivr_frames_I``, ``ivr_global_I``, ``rom_bars``,
    ``key_I_K`` (series I, key frame K)."""
    out: dict[str, bytes] = {}
    for i, s in enumerate(report.series):
        for name, fn in (("ivr_frames", plot_ivr_frames), ("ivr_global", plot_ivr_global)):
            png = fn(s)
            if png:
                out[f"{name}_{i}"] = png
        if s.images is not None:
            for k, (idx, what) in enumerate(s.key_frames):
                out[f"key_{i}_{k}"] = key_frame_png(s, idx, f"{what}: {s.labels[idx]}")
    rom = plot_rom_bars(report)
    if rom:
        out["rom_bars"] = rom
    return out
