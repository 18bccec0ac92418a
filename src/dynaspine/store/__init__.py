"""store (under construction)."""
