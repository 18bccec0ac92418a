"""``dynaspine serve``: run the REST service (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
        port: int = typer.Option(8000, help="TCP port."),
        database_url: str | None = typer.Option(
            None,
            "--database-url",
            help="SQLAlchemy URL (default: DATABASE_URL, else SQLite in the data directory).",
        ),
        data_dir: Path | None = typer.Option(
            None, "--data-dir", help="Folder of uploads, reports and the SQLite file."
        ),
        workers: int | None = typer.Option(
            None, "--workers", help="Analysis worker threads (default 1)."
        ),
        cors_origin: list[str] = typer.Option(
            [], "--cors-origin", help="Allow this browser origin (repeatable); none by default."
        ),
        viewer: bool = typer.Option(True, "--viewer/--no-viewer", help="Serve the web viewer."),
        pacs: bool = typer.Option(
            True, "--pacs/--no-pacs", help="Serve the DICOMweb routes (/api/v1/pacs)."
        ),
    ) -> None:
        """Serve the REST API, analysis workers and CDS Hooks (docs/service.md)."""
        import logging

        import uvicorn

        from dynaspine.api import create_app
        from dynaspine.store import Settings, open_store

        overrides: dict[str, object] = {}
        if database_url:
            overrides["database_url"] = database_url
        if data_dir is not None:
            overrides["data_dir"] = data_dir
        if workers is not None:
            overrides["workers"] = workers
        if cors_origin:
            overrides["cors_origins"] = cors_origin
        settings = Settings(**overrides)  # type: ignore[arg-type]
        # Migrate (and fail with a clear message) before uvicorn starts.
        open_store(settings=settings).close()
        logging.getLogger("dynaspine").setLevel(logging.INFO)
        typer.echo(f"dynaspine serving on http://{host}:{port}/api/v1/docs", err=True)
        # Viewer (/viewer/, frames API) and DICOMweb routes (/api/v1/pacs), from the PACS and
        # viewer area; the C-STORE receiver runs as `dynaspine dicom-receiver` (docs/pacs.md).
        from dynaspine.api.pacs import add_pacs
        from dynaspine.web import add_viewer

        uvicorn.run(
            add_pacs(add_viewer(create_app(settings))),
            host=host,
            port=port,
            access_log=False,
            log_level="info",
        )
