"""Migration scripts, applied in order by `chatserver.storage.db.migrate`."""
