"""The transactional outbox: typed payloads are queued in the same transaction as the change, and
the worker delivers them through the channel adapters with retries and backoff."""
