"""The outbox: changes that third-party integrations must hear about, recorded for the worker that will deliver
them (Rfmcube's triggerIntegrations). Nothing delivers them yet; they wait, and expire."""
