"""Stage 2, events → tables: sessions, messages and deliveries, credentials, auth attempts,
the server fingerprint and attempt statistics (pure functions over DataFrames)."""
