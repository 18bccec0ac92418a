"""phantom (under construction)."""
