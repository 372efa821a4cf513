"""Patron's domain package: shipped to Lambda as the DomainLayer and installed locally (editable)."""
