"""Three-way merges of corpora: keyless tables by row sets, keyed tables cell by cell."""
