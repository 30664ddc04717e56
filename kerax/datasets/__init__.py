"""Keras's datasets (`load_data()` loaders), small built-in data, synthetic sets.

`mnist`, `fashion_mnist`, `cifar10`, `cifar100`, `imdb`, `reuters`,
`boston_housing` and `california_housing` download Keras's files once, from
Keras's origins, verified by Keras's hashes, through
`kerax.utils.get_file` (cache: `$KERAX_HOME/datasets`, default
`~/.kerax/datasets`; a verified copy in Keras's own cache is reused). Set
`KERAX_DATASETS_BASE_URL` (or pass `base_url=`) to download from a mirror.
Nothing is ever unpickled with Python's full unpickler.

`digits` ships with scikit-learn, so it works offline.
"""

from kerax.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    digits,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
    synthetic,
)
from kerax.datasets.registry import get, names

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "get",
    "imdb",
    "mnist",
    "names",
    "reuters",
    "synthetic",
]
