"""SQLAlchemy Core implementations of the storage ports; `storage.sql` puts them together."""
