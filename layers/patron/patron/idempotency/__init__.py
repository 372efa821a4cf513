"""Idempotency-Key: a keyed create or update runs once; a retry gets the stored response back."""
