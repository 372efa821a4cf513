"""The attribute catalog: every custom attribute an application uses, per entity kind, with its inferred type."""
