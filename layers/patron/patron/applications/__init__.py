"""Applications (tenants) and their API keys."""
