"""api (under construction)."""
