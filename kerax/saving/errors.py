"""The error every kerax file reader raises for a file it cannot load as it is."""


class ModelFileError(ValueError):
    """A model file, weights file or checkpoint that cannot be loaded as it is.

    The message names the file, says what is wrong (missing, corrupted, from
    another model, unsafe) and what to do.

    Example:
        >>> issubclass(ModelFileError, ValueError)
        True
    """
