"""Text detectors shared by quality checks and operators.

The ``pii`` check and the ``redact-pii`` operator must agree on what counts as PII, and the
``banned-terms``/``encoding`` checks and their cleaning operators likewise; so detection lives
here, once, with a Python reference (``find_*``, one string) and a vectorised form
(``count_*``, a whole Arrow column) that returns the same matches.
"""
