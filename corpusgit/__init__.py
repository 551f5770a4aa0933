"""corpusgit: Git for LLM training corpora.

``Repo`` is the Python API; every CLI verb is a thin layer over it.
"""

from corpusgit.errors import CorpusGitError
from corpusgit.repo import Repo

__all__ = ["CorpusGitError", "Repo", "__version__"]
__version__ = "0.1.0"
