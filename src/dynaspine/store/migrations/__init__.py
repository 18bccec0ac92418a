"""Alembic migrations of the store, applied by :func:`dynaspine.store.open_store`."""
