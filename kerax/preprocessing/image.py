"""Keras's `keras.preprocessing.image`: image file and array helpers
(`kerax.utils`'s).

Example:
    >>> import numpy as np
    >>> img = kerax.preprocessing.image.array_to_img(np.zeros((4, 6, 3)))
    >>> kerax.preprocessing.image.img_to_array(img).shape
    (4, 6, 3)
"""

from kerax.utils.image_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
