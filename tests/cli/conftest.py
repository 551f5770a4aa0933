"""Fixtures for tests/cli; helpers live in cli_helpers.py (a unique module name, so test
files in different directories never import each other's conftest)."""

from cli_helpers import cli, snapshot, same_table  # noqa: F401
