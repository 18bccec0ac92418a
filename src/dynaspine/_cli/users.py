"""``dynaspine users``: add users, create and revoke API tokens (the admin bootstrap)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dynaspine._cli._common import console

if TYPE_CHECKING:
    from dynaspine.store import Store

users_app = typer.Typer(
    help="Users and API tokens of the service (bootstrap the first admin here).",
    no_args_is_help=True,
)

_DB = typer.Option(
    None, "--database-url", help="Default: DATABASE_URL, else the data dir's SQLite."
)
_DIR = typer.Option(None, "--data-dir", help="Data directory of the service.")


def _store(database_url: str | None, data_dir: Path | None) -> Store:
    from dynaspine.store import Settings, open_store

    overrides: dict[str, object] = {}
    if database_url:
        overrides["database_url"] = database_url
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return open_store(settings=Settings(**overrides))  # type: ignore[arg-type]


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (no patient data)."),
    role: str = typer.Option(..., "--role", help="clinician, coder or admin."),
    token: bool = typer.Option(True, "--token/--no-token", help="Also create an API token."),
    database_url: str | None = _DB,
    data_dir: Path | None = _DIR,
) -> None:
    """Add a user and print a new API token (shown once)."""
    store = _store(database_url, data_dir)
    try:
        store.add_user(name, role=role)
        console.print(f"user {name} ({role}) added")
        if token:
            typer.echo(store.create_token(name, label="cli"))
    finally:
        store.close()


@users_app.command("token")
def token(
    name: str = typer.Argument(..., help="User name."),
    expires_days: float | None = typer.Option(None, help="Expire after this many days."),
    database_url: str | None = _DB,
    data_dir: Path | None = _DIR,
) -> None:
    """Create another API token for NAME and print it (shown once)."""
    store = _store(database_url, data_dir)
    try:
        typer.echo(store.create_token(name, label="cli", expires_days=expires_days))
    finally:
        store.close()


@users_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="User name."),
    database_url: str | None = _DB,
    data_dir: Path | None = _DIR,
) -> None:
    """Revoke every API token of NAME."""
    store = _store(database_url, data_dir)
    try:
        console.print(f"{store.revoke_tokens(name)} token(s) of {name} revoked")
    finally:
        store.close()


@users_app.command("list")
def list_users(database_url: str | None = _DB, data_dir: Path | None = _DIR) -> None:
    """List users and roles."""
    store = _store(database_url, data_dir)
    try:
        for u in store.list_users():
            console.print(f"{u.name}\t{u.role}\t{'active' if u.active else 'inactive'}")
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group to ``app``."""
    app.add_typer(users_app, name="users")
