"""Routes: health, the caller's identity, users, tokens and the audit log (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from dynaspine import __version__
from dynaspine.api._auth import ADMIN, ANY_ROLE, audit, get_store
from dynaspine.api._schemas import AuditOut, Health, TokenIn, TokenOut, UserIn, UserOut
from dynaspine.store import User, current_revision

router = APIRouter(tags=["admin"])


@router.get("/health", response_model=Health, summary="Liveness and schema revision")
def health(request: Request) -> Health:
    """No authentication; says nothing about patients."""
    store = get_store(request)
    return Health(
        status="ok",
        version=__version__,
        database=store.engine.dialect.name,
        schema_revision=current_revision(store.engine),
    )


@router.get("/me", response_model=UserOut, summary="Who am I")
def me(user: User = Depends(ANY_ROLE)) -> UserOut:
    """The user owning the token."""
    return UserOut.model_validate(user)


@router.get("/users", response_model=list[UserOut], summary="List users")
def list_users(request: Request, user: User = Depends(ADMIN)) -> list[UserOut]:
    """Every user (admin)."""
    audit(request, user, "user.list")
    return [UserOut.model_validate(u) for u in get_store(request).list_users()]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user")
def add_user(body: UserIn, request: Request, user: User = Depends(ADMIN)) -> UserOut:
    """Create a user with a role (admin)."""
    created = get_store(request).add_user(body.name, role=body.role)
    audit(request, user, "user.add", detail={"user": created.id, "role": created.role})
    return UserOut.model_validate(created)


@router.post(
    "/users/{name}/tokens", response_model=TokenOut, status_code=201, summary="Create a token"
)
def create_token(
    name: str, request: Request, body: TokenIn | None = None, user: User = Depends(ADMIN)
) -> TokenOut:
    """A new API token for user ``name``; it is shown once (admin)."""
    store = get_store(request)
    if store.get_user(name) is None:
        raise HTTPException(404, detail="no such user")
    opts = body or TokenIn()
    token = store.create_token(name, label=opts.label, expires_days=opts.expires_days)
    audit(request, user, "token.create", detail={"for": name})
    return TokenOut(user=name, token=token)


@router.delete("/users/{name}/tokens", summary="Revoke a user's tokens")
def revoke_tokens(name: str, request: Request, user: User = Depends(ADMIN)) -> dict[str, int]:
    """Revoke every token of user ``name`` (admin)."""
    store = get_store(request)
    if store.get_user(name) is None:
        raise HTTPException(404, detail="no such user")
    n = store.revoke_tokens(name)
    audit(request, user, "token.revoke", detail={"for": name, "revoked": n})
    return {"revoked": n}


@router.get("/audit", response_model=list[AuditOut], summary="Read the audit log")
def read_audit(
    request: Request,
    study_id: str | None = Query(None),
    user_name: str | None = Query(None),
    action: str | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    user: User = Depends(ADMIN),
) -> list[AuditOut]:
    """Audit entries, newest first (admin); reading the log is itself audited."""
    store = get_store(request)
    rows = store.list_audit(study_id=study_id, user_name=user_name, action=action, limit=limit)
    audit(request, user, "audit.read", study_id=study_id)
    return [AuditOut.model_validate(r) for r in rows]
