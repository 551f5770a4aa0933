"""Fixtures for tests/remote; helpers live in remote_helpers.py (a unique module name, so test
files in different directories never import each other's conftest)."""

from remote_helpers import s3_endpoint, _aws_env, spec, new_spec, origin  # noqa: F401
