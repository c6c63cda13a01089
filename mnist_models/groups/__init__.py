"""The built-in benchmark groups, one folder each: its spec (``spec.py``, pure data, no torch), its runner
(``runner.py``) and its part of the report (``report.py``, a section of its own).

Each folder's ``__init__`` registers its spec and its runner (the runner's module, and torch, imported on its
first call), named by the entry point group ``mnist_models.groups``; its ``report`` by ``mnist_models.sections``:
the doors an installed package's groups and sections come through. Nothing outside a group's folder branches
on its name.
"""

import sys
from pathlib import Path

# An older checkout's tree on PYTHONPATH (an A/B or bisect side) still reads this install's entry points, and an
# editable install then finds these folders, whose relative imports reach that tree's registries, which hold its
# own built-in groups: there, a group's folder registers nothing.
FOREIGN = Path(__file__).resolve().parents[1] != Path(sys.modules[__name__.rsplit(".", 1)[0]].__file__).resolve().parent
