"""Remotes: other copies of a repository in a directory or in S3-compatible object storage.

A remote has the layout of a bare repository (``HEAD``, ``config.toml``, ``objects/ab/cdef…``,
``refs/heads/…``), so the same object files move both ways unchanged. Objects are verified on
arrival and published one by one, refs move last and only by compare-and-swap: an interrupted
transfer leaves nothing half-visible and resumes where it stopped.
"""
