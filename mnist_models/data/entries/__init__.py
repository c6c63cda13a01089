"""The built-in datasets, one module each: everything a dataset is lives in its entry, nowhere else.

Imported by the registry at its first lookup (never at package import).
"""

from . import mnist  # noqa: F401, I001  (importing registers it; first, as the default)
from . import fashion_mnist, torchvision_sets  # noqa: F401
