"""coding (under construction)."""
