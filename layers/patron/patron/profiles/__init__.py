"""Customer profiles."""
