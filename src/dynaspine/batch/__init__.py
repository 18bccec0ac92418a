"""batch (under construction)."""
