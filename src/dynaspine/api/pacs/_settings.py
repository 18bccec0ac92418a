"""PACS settings (pydantic-settings): environment variables with the ``DYNASPINE_PACS_`` prefix."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PacsSettings(BaseSettings):
    """Where the PACS is and how the DICOM receiver listens.

    Attributes
    ----------
    dicomweb_url
        Base URL of the PACS's DICOMweb service (e.g. ``http://pacs:8042/dicom-web``);
        ``None`` turns the DICOMweb routes off (HTTP 503).
    username, password
        HTTP basic authentication of the DICOMweb service, if it needs it.
    dicom_port
        TCP port of the C-STORE receiver started with the server; ``None``: no receiver.
    dicom_host
        Address the receiver listens on (loopback by default; ``0.0.0.0`` for a network).
    ae_title
        The receiver's AE title.
    """

    model_config = SettingsConfigDict(env_prefix="DYNASPINE_PACS_", extra="ignore")

    dicomweb_url: str | None = None
    username: str | None = None
    password: str | None = None
    dicom_port: int | None = None
    dicom_host: str = "127.0.0.1"
    ae_title: str = "DYNASPINE"
