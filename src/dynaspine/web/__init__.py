"""web (under construction)."""
