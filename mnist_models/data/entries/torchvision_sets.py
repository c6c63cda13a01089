"""KMNIST, QMNIST and EMNIST's digits: the official archives, read and extracted by torchvision's own classes.

Each archive is pinned by the MD5 of torchvision's table (``tests/data/test_datasets.py`` keeps the two equal).
Their mirrors are tried through torchvision; where they cannot be reached, ``mnist-models data fetch --dataset
NAME --source-dir DIR`` takes the archives from a folder, once, into the data root.
"""

from ..formats import TorchvisionArchives
from ..registry import DatasetSpec, register_dataset
from ..routes import Mirrors


def _advice(name: str, files) -> str:
    return (
        f"Download the official {name} files ({', '.join(files)}) where the mirrors can be reached, then run "
        f"`mnist-models data fetch --dataset {name} --source-dir DIR` with the folder holding them."
    )


_KMNIST_FILES = {
    "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
    "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
    "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
    "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
}
KMNIST = register_dataset(
    DatasetSpec(
        name="kmnist",
        folder="KMNIST",
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        class_word="character",
        files=_KMNIST_FILES,
        reader=TorchvisionArchives("KMNIST"),
        routes=(Mirrors("KMNIST"),),
        advice=_advice("kmnist", _KMNIST_FILES),
    )
)

_QMNIST_FILES = {
    "qmnist-train-images-idx3-ubyte.gz": "ed72d4157d28c017586c42bc6afe6370",
    "qmnist-train-labels-idx2-int.gz": "0058f8dd561b90ffdd0f734c6a30e5e4",
    "qmnist-test-images-idx3-ubyte.gz": "1394631089c404de565df7b7aeaf9412",
    "qmnist-test-labels-idx2-int.gz": "5b5b05890a5e13444e108efe57b788aa",
}
QMNIST = register_dataset(
    DatasetSpec(
        name="qmnist",
        folder="QMNIST",
        classes=tuple(str(d) for d in range(10)),
        class_word="digit",
        files=_QMNIST_FILES,
        reader=TorchvisionArchives("QMNIST", label_column=0),  # the 60k training and 60k test digits
        routes=(Mirrors("QMNIST"),),
        advice=_advice("qmnist", _QMNIST_FILES),
    )
)

_EMNIST_FILES = {"gzip.zip": "58c8d27c78d21e728a6bc7b3cc06412e"}
EMNIST_DIGITS = register_dataset(
    DatasetSpec(
        name="emnist-digits",
        folder="EMNIST",
        classes=tuple(str(d) for d in range(10)),
        class_word="digit",
        files=_EMNIST_FILES,
        reader=TorchvisionArchives("EMNIST", (("split", "digits"),), transpose=True),  # upright, as MNIST's
        routes=(Mirrors("EMNIST", (("split", "digits"),)),),
        val_size=40_000,  # of its 240,000 training digits: MNIST's one in six
        advice=_advice("emnist-digits", _EMNIST_FILES),
    )
)
