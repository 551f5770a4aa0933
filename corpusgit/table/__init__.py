"""Tables: row hashing, content-defined chunking, ingest by matching, streaming reads."""
