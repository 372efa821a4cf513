"""The `patron` command line: applications and API keys, locally or on a deployed stack."""
