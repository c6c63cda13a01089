"""``python -m mnist_models.report``: the same as ``mnist-models report``."""

import sys

from .cli import main

sys.exit(main())
