"""Loyalty programs: points in lots per member and subledger, pending, active, spent and expired by time, and
the tiers they reach (Talon.One's loyalty semantics; ARCHITECTURE.md "Ledgers are append-only")."""
