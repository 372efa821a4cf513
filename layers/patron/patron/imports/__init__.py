"""Bulk imports (Rfmcube's /import): a process per import, its chunks, counters and rejected records."""
