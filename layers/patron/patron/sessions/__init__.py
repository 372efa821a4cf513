"""Talon.One customer sessions: carts evaluated against the application's campaigns (docs/sessions.md)."""
