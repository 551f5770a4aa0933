"""Content-addressed object storage: canonical encoding, ids, atomic files."""
