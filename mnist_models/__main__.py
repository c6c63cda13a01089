"""``python -m mnist_models``: the same as the ``mnist-models`` command."""

import sys

from .cli import main

sys.exit(main())
