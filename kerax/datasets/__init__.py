"""Small built-in data, Keras-style `load_data()` loaders, synthetic sets.

`digits` ships with scikit-learn, so it works offline. `mnist`,
`fashion_mnist` and `cifar10` read the file Keras caches (under
`$KERAS_HOME/datasets`, default `~/.keras/datasets`) and never download:
without the file they fail with a message saying where to put it.
"""

from kerax.datasets import cifar10, digits, fashion_mnist, mnist, synthetic
from kerax.datasets.registry import get, names

__all__ = ["cifar10", "digits", "fashion_mnist", "get", "mnist", "names", "synthetic"]
