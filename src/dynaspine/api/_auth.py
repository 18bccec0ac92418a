"""Bearer-token authentication, role checks and the audit trail of the REST API.

Every route that touches patient data depends on :func:`require` and records what it did
with :func:`audit`; refused requests are audited too. Audit entries name the route
template (``/api/v1/studies/{study_id}``), never query values, so no PHI reaches them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dynaspine.store import ROLES, Store, User

log = logging.getLogger("dynaspine.api")

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer dsp_...`")


def get_store(request: Request) -> Store:
    """The app's :class:`~dynaspine.store.Store` (a FastAPI dependency)."""
    store: Store = request.app.state.store
    return store


def route_template(request: Request) -> str:
    """The matched route's path template (no ids of search values), else the raw path."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if not path:
        return "(unmatched)"
    # Routers included with a prefix may report their path without it: take the prefix
    # from the raw path (templates replace whole segments one for one).
    raw = request.url.path.rstrip("/").split("/")
    tmpl = str(path).rstrip("/").split("/")
    if len(raw) > len(tmpl):
        return "/".join(raw[: len(raw) - len(tmpl) + 1]) + "/" + "/".join(tmpl[1:])
    return str(path)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit(
    request: Request,
    user: User | None,
    action: str,
    *,
    study_id: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry for this request (who, what, when, which study)."""
    store = get_store(request)
    store.audit(
        action,
        user=user,
        outcome=outcome,
        study_id=study_id,
        method=request.method,
        path=route_template(request),
        client=_client(request),
        detail=detail,
    )


def require(*roles: str) -> Callable[..., User]:
    """A dependency admitting users with one of ``roles`` (admin is always admitted).

    Missing or bad token: 401 with ``WWW-Authenticate: Bearer``; wrong role: 403. Both are
    audited as ``auth.denied``.
    """
    for r in roles:
        if r not in ROLES:
            raise ValueError(f"unknown role {r!r}")
    allowed = {*roles, "admin"}

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> User:
        store = get_store(request)
        user = store.authenticate(credentials.credentials) if credentials else None
        if user is None:
            audit(request, None, "auth.denied", outcome="unauthenticated")
            raise HTTPException(
                status_code=401,
                detail="missing, unknown, expired or revoked API token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if user.role not in allowed:
            audit(request, user, "auth.denied", outcome="forbidden")
            raise HTTPException(
                status_code=403,
                detail=f"role {user.role!r} may not use this route; it needs one of "
                f"{', '.join(sorted(allowed))}",
            )
        request.state.user = user
        return user

    dependency.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dependency


ANY_ROLE = require("clinician", "coder")
"""Any authenticated user."""
CLINICAL = require("clinician")
"""Clinicians and admins: upload, analyse."""
CODING = require("coder")
"""Coders and admins: coding."""
ADMIN = require()
"""Admins only: users, tokens, audit log."""
