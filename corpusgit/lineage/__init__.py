"""Lineage: the record of every operator run (``cgit run``), and the commands that read it
(``cgit lineage``, ``cgit why``, ``cgit rerun``). See ``docs/operators.md``.

Modules: ``record`` (records and the local run log), ``effects`` (row-effect sets),
``tables`` (``path[@rev]`` names, a step's input tables), ``outputs`` (where a step's output
goes, staged all at once), ``run`` (one step, the run-cache, committing runs),
``pipeline`` (recipes), ``graph`` (upstream walk), ``export`` (JSON/DOT/Mermaid),
``openlineage`` (RunEvents), ``why`` and ``rerun``.
"""
