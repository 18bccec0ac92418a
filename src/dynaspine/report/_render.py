"""HTML (Jinja2) and PDF (WeasyPrint) rendering of a :class:`Report`."""

from __future__ import annotations

import base64
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynaspine.errors import ReportError

if TYPE_CHECKING:
    from dynaspine.report._model import Report

_HIDDEN_COLUMNS = {"ICR x", "ICR y"}


def _template_text(name: str) -> str:
    return resources.files("dynaspine.report").joinpath("templates", name).read_text("utf-8")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _context(report: Report) -> dict[str, Any]:
    figures = report.figures()
    plots = [(name, _data_uri(png)) for name, png in figures.items() if not name.startswith("key_")]
    plots.sort(key=lambda t: (t[0] != "rom_bars", t[0]))
    keyframes = [(name, _data_uri(png)) for name, png in figures.items() if name.startswith("key_")]
    columns: list[list[str]] = []
    for i in range(len(report.series)):
        seen: dict[str, None] = {}
        for lv in report.levels:
            if lv.series == i:
                for m in lv.measurements:
                    if m.short not in _HIDDEN_COLUMNS:
                        seen.setdefault(m.short)
        columns.append(list(seen))
    positions = Counter(str(v.get("position")) for v in report.views)
    return {
        "r": report,
        "css": _template_text("report.css"),
        "plots": plots,
        "keyframes": keyframes,
        "level_columns": columns,
        "n_views": sum(1 for v in report.views if v.get("image") or not v.get("frames"))
        or len(report.views),
        "positions": ", ".join(f"{p}" + (f" x{n}" if n > 1 else "") for p, n in positions.items()),
        "sign_conventions": (report.result or {}).get("sign_conventions") or {},
    }


def render_html(report: Report, *, standalone: bool = True) -> str:
    """The report as one HTML page with the CSS inline and plots as PNG data URIs.

    ``standalone`` is kept for API symmetry: the page is always self-contained.
    """
    from jinja2 import Environment, StrictUndefined, select_autoescape

    env = Environment(
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.from_string(_template_text("report.html.j2"))
    return template.render(**_context(report))


def render_pdf(report: Report, path: Path) -> Path:
    """Render the HTML with WeasyPrint to ``path``.

    Raises
    ------
    ReportError
        WeasyPrint or its Pango library is not installed (with how to install them).
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise ReportError(
            f"PDF output needs WeasyPrint and the Pango library, which could not be loaded ({exc})",
            hint="pip install 'dynaspine[pdf]' and, on Debian/Ubuntu, "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 (see scripts/debian-packages.txt)",
        ) from None
    html = render_html(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))
    return path
