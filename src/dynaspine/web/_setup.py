"""Mounting the viewer on a dynaspine FastAPI app."""

from __future__ import annotations

from typing import Any

from dynaspine.web._routes import frames_router, viewer_router


def add_viewer(app: Any) -> Any:
    """Add the viewer to an app made by :func:`dynaspine.api.create_app`.

    The frame routes go under the API prefix (``/api/v1``), the page at ``/viewer/``.
    Returns ``app``.
    """
    from dynaspine.api._app import API_PREFIX

    paths = {getattr(r, "path", None) for r in app.routes}
    if "/viewer/" not in paths:
        app.include_router(frames_router, prefix=API_PREFIX)
        app.include_router(viewer_router)
    return app
