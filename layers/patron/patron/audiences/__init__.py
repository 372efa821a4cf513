"""Audiences (Talon.One): named groups of customer profiles, their memberships, and the work on every member."""
