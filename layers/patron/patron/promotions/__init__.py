"""The promotions engine: campaigns defined as code, a compiled condition language (`rules/`), and the pure
evaluation of a session against them (docs/promotions.md)."""
