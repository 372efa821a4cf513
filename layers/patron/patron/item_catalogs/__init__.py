"""Talon.One's cart item catalogs (docs/item-catalogs.md): an application's products by SKU, synced by its PIM,
read by sessions. Not `patron.catalog`, which is the attribute catalog (descriptors of attributes)."""
