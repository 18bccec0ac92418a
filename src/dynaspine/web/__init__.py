"""The browser viewer: a canvas cine player with tracked vertebrae, landmarks and plots.

:data:`viewer_router` serves the page at ``/viewer/`` (static files, no patient data);
:data:`frames_router` adds ``/studies/{id}/frames`` and ``/studies/{id}/frames/{n}.png``
to the REST API. :func:`add_viewer` mounts both on an app made by
:func:`dynaspine.api.create_app`. See ``docs/viewer.md``.
"""

from dynaspine.web._frames import DisplayCache, DisplaySeries, load_display, to_display
from dynaspine.web._routes import ASSETS, frames_router, static_dir, viewer_router
from dynaspine.web._setup import add_viewer

__all__ = [
    "ASSETS",
    "DisplayCache",
    "DisplaySeries",
    "add_viewer",
    "frames_router",
    "load_display",
    "static_dir",
    "to_display",
    "viewer_router",
]
