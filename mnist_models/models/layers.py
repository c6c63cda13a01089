"""Layer builders the architectures are made of: MLP stacks, conv blocks, classifier heads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where a model is built, so that reading the registry (floors) costs nothing
    from torch import nn


def mlp_layers(widths: Sequence[int], in_features: int = 784, classes: int = 10) -> nn.Sequential:
    """Flatten, then Linear+ReLU for each hidden width, then a linear classifier."""
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_features
    for width in widths:
        layers += [nn.Linear(prev, width), nn.ReLU()]
        prev = width
    layers.append(nn.Linear(prev, classes))
    return nn.Sequential(*layers)


def conv_blocks(
    channels: Sequence[int], in_channels: int = 1, batch_norm: bool = False, pool_first: bool = False
) -> nn.Sequential:
    """3x3 convolution (padding 1) [+ BatchNorm] + ReLU + 2x2 max pooling per entry of ``channels``.

    With batch norm the convolution has no bias: the norm's shift replaces it.
    ``pool_first`` pools straight after the convolution, so that the norm and the
    ReLU run on a quarter of the values (the order fast CIFAR-10 training recipes use):
    on a 2-core CPU it cut the speedrun's training time by about a quarter.
    """
    from torch import nn

    layers: list[nn.Module] = []
    prev = in_channels
    for ch in channels:
        activation = [nn.BatchNorm2d(ch), nn.ReLU()] if batch_norm else [nn.ReLU()]
        pool = [nn.MaxPool2d(2)]
        layers += [
            nn.Conv2d(prev, ch, 3, padding=1, bias=not batch_norm),
            *(pool + activation if pool_first else activation + pool),
        ]
        prev = ch
    return nn.Sequential(*layers)


def classifier_head(
    in_features: int, hidden: Sequence[int], dropout: Sequence[float], classes: int = 10
) -> nn.Sequential:
    """Flatten, then Linear+ReLU(+Dropout where given) per hidden width, then the output layer.

    ``dropout[i]`` follows hidden layer ``i``; zero or missing means none.
    """
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_features
    for i, width in enumerate(hidden):
        layers += [nn.Linear(prev, width), nn.ReLU()]
        if i < len(dropout) and dropout[i] > 0:
            layers.append(nn.Dropout(dropout[i]))
        prev = width
    layers.append(nn.Linear(prev, classes))
    return nn.Sequential(*layers)


def cnn_layers(channels: Sequence[int], hidden: Sequence[int], dropout: Sequence[float]) -> nn.Sequential:
    """The notebook's CNN shape: ``conv_blocks(channels)``, then a classifier head on the pooled 28x28 image."""
    from torch import nn

    side = 28 // (2 ** len(channels))
    return nn.Sequential(conv_blocks(channels), classifier_head(channels[-1] * side * side, hidden, dropout))
