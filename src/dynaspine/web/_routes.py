"""Routes of the browser viewer: frames as PNG for the API, and the viewer's static files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from dynaspine.api._auth import ANY_ROLE, audit, get_store
from dynaspine.errors import DynaspineError
from dynaspine.store import SeriesRow, Store, User
from dynaspine.web._frames import DisplayCache

frames_router = APIRouter(tags=["viewer"])
"""Frames of a study's series (mounted under the API prefix)."""

viewer_router = APIRouter(include_in_schema=False)
"""The viewer's page and assets at ``/viewer/`` (no patient data, no token needed)."""

#: Files of the viewer and their media types; nothing else is served.
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}


def static_dir() -> Path:
    """Folder of the viewer's static files (inside the installed package)."""
    return Path(str(resources.files("dynaspine.web").joinpath("static")))


def _cache(request: Request) -> DisplayCache:
    cache = getattr(request.app.state, "display_cache", None)
    if not isinstance(cache, DisplayCache):
        cache = DisplayCache()
        request.app.state.display_cache = cache
    return cache


def _series(store: Store, study_id: str, series_id: str | None) -> SeriesRow:
    if store.get_study(study_id) is None:
        raise HTTPException(404, detail=f"no study {study_id[:40]}")
    candidates = [s for s in store.list_series(study_id) if s.path]
    if series_id is not None:
        match = [s for s in candidates if s.id == series_id]
        if not match:
            raise HTTPException(404, detail=f"no series {series_id[:40]} with files in this study")
        return match[0]
    if not candidates:
        raise HTTPException(404, detail="the study has no series with local files")
    # The cine: the series with the most frames (multi-frame first on ties).
    return max(candidates, key=lambda s: (s.n_frames or 0, s.kind == "multiframe"))


def _display(request: Request, store: Store, series: SeriesRow) -> Any:
    assert series.path is not None
    try:
        return _cache(request).get(series.id, store.path_of(series.path))
    except DynaspineError as exc:
        raise HTTPException(
            422, detail=f"series {series.id} cannot be shown: {exc.message}"
        ) from None


@frames_router.get("/studies/{study_id}/frames", summary="Frames of a series: count, size, times")
def frames_info(
    study_id: str,
    request: Request,
    series_id: str | None = Query(None, max_length=32, description="Default: the longest series"),
    user: User = Depends(ANY_ROLE),
) -> JSONResponse:
    """Number of frames, size, pixel spacing and frame times of the series shown."""
    store = get_store(request)
    series = _series(store, study_id, series_id)
    shown = _display(request, store, series)
    audit(request, user, "frames.info", study_id=study_id, detail={"series": series.id})
    return JSONResponse({"study_id": study_id, "series_id": series.id, **shown.info()})


@frames_router.get(
    "/studies/{study_id}/frames/{index}.png",
    summary="One frame as PNG",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def frame_png(
    study_id: str,
    index: int,
    request: Request,
    series_id: str | None = Query(None, max_length=32),
    max_size: int | None = Query(
        None, ge=64, le=8192, description="Shrink to at most this many pixels on the longer side"
    ),
    user: User = Depends(ANY_ROLE),
) -> Response:
    """Frame ``index`` (0-based) of the series, windowed to 8 bits for display.

    Image coordinates stay those of the full frame (``rows`` x ``columns`` of
    ``/studies/{id}/frames``) whatever ``max_size`` is: the viewer scales the picture.
    """
    store = get_store(request)
    series = _series(store, study_id, series_id)
    shown = _display(request, store, series)
    if not 0 <= index < shown.n_frames:
        raise HTTPException(
            404,
            detail=f"no frame {index}: the series has {shown.n_frames} (0..{shown.n_frames - 1})",
        )
    audit(request, user, "frames.read", study_id=study_id, detail={"series": series.id})
    return Response(
        shown.png(index, max_size=max_size),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@viewer_router.get("/viewer")
def viewer_root() -> RedirectResponse:
    """Redirect to the viewer page."""
    return RedirectResponse("/viewer/", status_code=307)


@viewer_router.get("/viewer/")
def viewer_page() -> FileResponse:
    """The viewer page."""
    return viewer_asset("index.html")


@viewer_router.get("/viewer/{name}")
def viewer_asset(name: str) -> FileResponse:
    """A static file of the viewer."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, detail="no such viewer file")
    return FileResponse(
        static_dir() / name,
        media_type=media_type,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
            "frame-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
