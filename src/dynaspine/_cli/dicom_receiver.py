"""``dynaspine dicom-receiver``: a DICOM C-STORE receiver that ingests studies into the store."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``dicom-receiver`` command to ``app``."""

    @app.command("dicom-receiver")
    def dicom_receiver(
        port: int = typer.Option(
            11112, "--port", help="DICOM TCP port (11112: registered DICOM port)."
        ),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to listen on (loopback by default; 0.0.0.0 for all).",
        ),
        ae_title: str = typer.Option("DYNASPINE", "--ae-title", help="Our AE title."),
        database_url: str | None = typer.Option(
            None, "--database-url", help="Default: DATABASE_URL, else the data dir's SQLite."
        ),
        data_dir: Path | None = typer.Option(
            None, "--data-dir", help="Data directory of the service."
        ),
    ) -> None:
        """Receive RF/DX/CR/XA/SC images by C-STORE (and answer C-ECHO) into the store.

        Runs beside `dynaspine serve` on the same database and data directory; every study
        received is listed by the REST API and the viewer. Stop with Ctrl-C. See docs/pacs.md.
        """
        import logging
        import threading

        from dynaspine._cli._common import err_console
        from dynaspine.api.pacs import start_store_receiver
        from dynaspine.store import Settings, open_store

        overrides: dict[str, object] = {}
        if database_url:
            overrides["database_url"] = database_url
        if data_dir is not None:
            overrides["data_dir"] = data_dir
        store = open_store(settings=Settings(**overrides))  # type: ignore[arg-type]
        logging.getLogger("dynaspine").setLevel(logging.INFO)
        receiver = start_store_receiver(store, port=port, host=host, ae_title=ae_title)
        err_console.print(
            f"DICOM receiver {receiver.ae_title} listening on {receiver.host}:{receiver.port} "
            "(Ctrl-C to stop)",
            highlight=False,
        )
        try:
            threading.Event().wait()
        finally:
            receiver.stop()
            store.close()
