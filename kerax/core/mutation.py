"""Models that change in place: `Sequential.add`/`pop` and `layer.trainable = ...`.

Both bump one process-wide counter; a `ModelWatch` (what a Trainer and each
step keep) compares it on every use (one integer) and walks its model only
when something, somewhere, changed. Views handed out by a model
(`model.layers`, `model.get_layer`) are registered with the layer they stand
for, so a change made to the layer reaches them.
"""

from __future__ import annotations

import weakref

# How many in-place changes (`add`/`pop`, a `trainable` flag) this process
# has made; `ARCHITECTURE` counts the `add`/`pop` calls alone.
CHANGES = [0]
ARCHITECTURE = [0]

_VIEWS = "_kerax_views"


def changed(architecture: bool) -> None:
    """Notes an in-place change (`architecture`: an `add`/`pop`)."""
    CHANGES[0] += 1
    if architecture:
        ARCHITECTURE[0] += 1


def register_view(origin, view) -> None:
    """Records `view` (a `bind` copy of `origin`) so changes to `origin` reach it."""
    vars(view).pop(_VIEWS, None)  # `copy.copy` copied the origin's list.
    views = vars(origin).get(_VIEWS)
    if views is None:
        views = vars(origin)[_VIEWS] = []
    else:
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(view))


def views_of(layer) -> list:
    """The live views registered for `layer`."""
    views = [r() for r in vars(layer).get(_VIEWS, ())]
    return [v for v in views if v is not None and v is not layer]


def architecture_version(layer) -> tuple:
    """The `add`/`pop` counts of the Sequential models in `layer`'s tree.

    Equal before and after a use unless one of them changed in place.
    """
    found = []

    def walk(x):
        count = vars(x).get("_kerax_mutations")
        if count:
            found.append((id(x), count))
        for _, child in x.children():
            walk(child)

    walk(layer)
    return tuple(found)


def trainable_flags(layer) -> tuple:
    """The `trainable` flags of `layer` and its sublayers, nested as the
    layers are: what a `Trainer` compares to notice a later
    `layer.trainable = ...`."""
    return (
        bool(layer.trainable),
        tuple((name, trainable_flags(child)) for name, child in layer.children()),
    )


class ModelWatch:
    """What a Trainer or a step notes about its model when it is made.

    `check()` raises once the model changed in place since: its layers
    (`Sequential.add`/`pop`: the steps were traced, the optimizer masked and
    the params made for the old layers) or, with `trainable=True`, a
    `trainable` flag (the optimizer mask and the traced step are for the old
    flags). Keras asks for `compile()` again there. While nothing changed
    anywhere, `check()` is one integer comparison.

    Args:
        model: The model watched.
        what: What keeps the watch, for the message (`"Trainer"`).
        trainable: Whether a `trainable` change counts too (a training step
            depends on the flags; inference does not).
    """

    __slots__ = ("model", "what", "trainable", "_seen", "_version", "_flags")

    def __init__(self, model, what: str, trainable: bool = True):
        self.model, self.what, self.trainable = model, what, trainable
        self._seen = CHANGES[0]
        self._version = architecture_version(model)
        self._flags = trainable_flags(model) if trainable else None

    def check(self) -> None:
        if CHANGES[0] == self._seen:  # Nothing changed anywhere: one comparison.
            return
        remake = (
            f"Make a new {self.what} for the model as it is now, as Keras needs "
            f"`compile()` again: `trainer = kerax.Trainer(model, ...)`; "
        )
        if architecture_version(self.model) != self._version:
            raise RuntimeError(
                f"{self.model.describe()} changed (`add`/`pop`) after this {self.what} was "
                "made for it: its compiled steps, optimizer state and params are for the old "
                f"layers. {remake}`ts = trainer.init(key)`."
            )
        if self.trainable and trainable_flags(self.model) != self._flags:
            raise RuntimeError(
                f"The trainable flags of {self.model.describe()} changed after this "
                f"{self.what} was made (`layer.trainable = ...`): its optimizer mask, "
                "optimizer state and compiled step are for the old ones, and nothing is "
                f"trained with the new flags and the old mask. {remake}"
                "`ts = trainer.init(key)._replace(params=ts.params, state=ts.state)` keeps "
                "the trained weights."
            )
        self._seen = CHANGES[0]


# The name the steps and the Trainer used first.
ArchitectureWatch = ModelWatch
