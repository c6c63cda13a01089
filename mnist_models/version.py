"""The package's one version (pyproject.toml reads it; CHANGELOG.md says what each version changed).

Every saved run names it beside the record schema it was written in (``machine_info["mnist_models"]``).
"""

__version__ = "0.2.0"
