"""views (under construction)."""
