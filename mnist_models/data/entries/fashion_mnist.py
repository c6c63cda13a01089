"""Fashion-MNIST: Debian's ``dataset-fashion-mnist`` folder where installed, else the mirrors through torchvision."""

from ..formats import IdxFiles
from ..registry import DatasetSpec, register_dataset
from ..routes import Folder, Mirrors

FASHION_MNIST = register_dataset(
    DatasetSpec(
        name="fashion-mnist",
        folder="FashionMNIST",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        class_word="garment",
        files={  # MD5 of each uncompressed IDX file
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        reader=IdxFiles(counts=(60_000, 10_000)),
        routes=(Folder(("/usr/share/datasets/fashion-mnist",), if_present=True), Mirrors("FashionMNIST")),
        advice="Install Debian's package (apt-get install dataset-fashion-mnist), or pass --source-dir "
        "pointing at a folder with the four official .gz files, or allow network access.",
    )
)
