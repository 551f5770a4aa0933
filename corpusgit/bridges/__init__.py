"""Bridges to tools teams already use for data: DVC (``corpusgit[dvc]``) and lakeFS
(``corpusgit[lakefs]``). Each is imported only by the command that needs it."""
