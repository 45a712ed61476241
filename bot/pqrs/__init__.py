"""PQR use cases: filing, triage, replies, status changes, extensions (`service.PqrService`), and
the notices they queue for customers and staff."""
