"""Mounting the PACS routes on a dynaspine FastAPI app and running the receiver with a store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dynaspine.api.pacs._receiver import Receiver, start_receiver
from dynaspine.api.pacs._register import incoming_dir, registrar
from dynaspine.api.pacs._settings import PacsSettings

if TYPE_CHECKING:
    from dynaspine.store import Store


def add_pacs(app: Any, *, settings: PacsSettings | None = None) -> Any:
    """Add the DICOMweb routes (``/api/v1/pacs/...``) to an app of
    :func:`dynaspine.api.create_app`; ``settings`` default to the environment. Returns ``app``.
    """
    from dynaspine.api._app import API_PREFIX
    from dynaspine.api.pacs._routes import router

    app.state.pacs_settings = settings or PacsSettings()
    if f"{API_PREFIX}/pacs/studies" not in {getattr(r, "path", None) for r in app.routes}:
        app.include_router(router, prefix=API_PREFIX)
    return app


def start_store_receiver(
    store: Store,
    *,
    port: int | None = None,
    host: str | None = None,
    ae_title: str | None = None,
    settings: PacsSettings | None = None,
) -> Receiver:
    """Start the C-STORE receiver that ingests every received study into ``store``.

    Arguments left ``None`` come from ``settings`` (``DYNASPINE_PACS_*``); port 11112
    (the registered DICOM port) when none is set.
    """
    cfg = settings or PacsSettings()
    return start_receiver(
        data_dir=incoming_dir(store, "dicom"),
        port=port
        if port is not None
        else (cfg.dicom_port if cfg.dicom_port is not None else 11112),
        host=host or cfg.dicom_host,
        ae_title=ae_title or cfg.ae_title,
        on_study=registrar(store),
    )
