"""Knowledge distillation: Keras's `keras.distillation`, as a kerax model.

`Distiller(teacher, student, distillation_losses)` is a kerax layer whose
params hold both models, `params["teacher"]` and `params["student"]`. Its
`apply` returns the student's outputs and, while training, adds the weighted
distillation loss with `add_loss`; the teacher is frozen (`trainable=False`:
masked out of the optimizer, and its params are read under
`stop_gradient`). So distilling is Keras's code with a `kerax.Trainer`:

    distiller = Distiller(teacher, student, LogitsDistillation(temperature=3.0))
    trainer = kerax.Trainer(
        distiller, "adam", loss="sparse_categorical_crossentropy",
        loss_weights=distiller.student_loss_weight,
    )
    ts = distiller.with_teacher(trainer.init(), teacher_params, teacher_state)
    ts, history = trainer.fit(ts, x, y)
    student_params = ts.params["student"]

The Trainer's `loss` is the student loss (Keras's `Distiller.compile(loss=)`)
and `loss_weights=distiller.student_loss_weight` makes the total
`w * student_loss + (1 - w) * distillation_loss`, Keras's total loss.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerax import losses as kerax_losses
from kerax.core import aux_losses
from kerax.core.layer import Layer

__all__ = [
    "DistillationLoss",
    "LogitsDistillation",
    "FeatureDistillation",
    "Distiller",
]


def _convert_loss(loss):
    if loss is None:
        return None
    if isinstance(loss, str):
        fn = kerax_losses.get(loss)
        if fn is None:
            raise ValueError(f"Unknown loss function: '{loss}'.")
        return fn
    return loss


def _map(fn, *trees):
    return jax.tree.map(fn, *trees, is_leaf=lambda v: v is None or callable(v))


def _sum(values):
    return jnp.sum(jnp.stack([jnp.asarray(v, jnp.float32) for v in values]))


class DistillationLoss:
    """Base class of distillation losses (Keras's `DistillationLoss`).

    Subclasses implement `compute_loss(teacher_outputs, student_outputs)`,
    a pure function returning a scalar.
    """

    teacher_layer_name = None
    student_layer_name = None

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs):
        if jax.tree.structure(teacher_outputs) != jax.tree.structure(student_outputs):
            raise ValueError(
                "The teacher's and the student's outputs must have the same "
                f"structure, got {jax.tree.structure(teacher_outputs)} and "
                f"{jax.tree.structure(student_outputs)}."
            )

    def validate_model_compatibility(self, teacher, student):
        pass


class FeatureDistillation(DistillationLoss):
    """Matches the teacher's features (Keras's `FeatureDistillation`).

    Args:
        loss: a loss name or function (`"mse"`, `"cosine_similarity"`, ...),
            or a structure of them matching the features (None skips one).
        teacher_layer_name: the teacher layer whose output is matched; None:
            the final output.
        student_layer_name: likewise for the student.

    Example:

    >>> t = jnp.array([[1.0, 2.0]]); s = jnp.array([[0.0, 2.0]])
    >>> float(FeatureDistillation("mse").compute_loss(t, s))
    0.5
    """

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = _map(_convert_loss, loss)
        if all(v is None for v in jax.tree.leaves(self.loss, is_leaf=_is_none)):
            raise ValueError(
                "The `loss` argument in `FeatureDistillation` must contain at "
                "least one non-`None` value."
            )

    def validate_model_compatibility(self, teacher, student):
        for who, model, name in (
            ("teacher", teacher, self.teacher_layer_name),
            ("student", student, self.student_layer_name),
        ):
            if name is None:
                continue
            if getattr(model, "inputs", None) is None:
                raise ValueError(
                    f"FeatureDistillation with specific layer names requires "
                    f"Functional or Sequential models; the {who} has no "
                    f"kerax.Input. Give it one, or distil the final outputs."
                )
            try:
                model.get_layer(name=name)
            except ValueError as e:
                raise ValueError(f"In {who} model: {e}") from e

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        def apply_loss(loss_fn, t, s):
            if loss_fn is None:
                return 0.0
            return jnp.mean(loss_fn(t, s))

        values = _structured(self.loss, apply_loss, teacher_outputs, student_outputs)
        return _sum(values)


class LogitsDistillation(DistillationLoss):
    """Matches temperature-scaled logits (Keras's `LogitsDistillation`).

    Both models' outputs are divided by `temperature`, then `loss` compares
    them. As in Keras, a `kerax.losses.KLDivergence` instance compares the
    softmax probabilities and is scaled by `temperature**2`; a loss given
    by name (the default `"kl_divergence"` included) or as a function
    compares the scaled logits directly.

    Args:
        temperature: a positive number (default 3.0).
        loss: a loss name, function or instance, or a structure of them
            matching the outputs (None skips one).

    Example:

    >>> t = jnp.array([[2.0, 1.0, 0.0]]); s = jnp.array([[0.0, 1.0, 2.0]])
    >>> d = LogitsDistillation(2.0, kerax.losses.KLDivergence())
    >>> round(float(d.compute_loss(t, s)), 4)
    1.2806
    """

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        self.temperature = temperature
        self.loss = _map(_convert_loss, loss)
        if all(v is None for v in jax.tree.leaves(self.loss, is_leaf=_is_none)):
            raise ValueError("At least one loss must be non-`None`.")
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError(f"temperature must be positive, got {temperature}.")

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        t_scaled = jax.tree.map(lambda a: a / self.temperature, teacher_outputs)
        s_scaled = jax.tree.map(lambda a: a / self.temperature, student_outputs)

        def apply_loss(loss_fn, t, s):
            if loss_fn is None:
                return 0.0
            if isinstance(loss_fn, kerax_losses.KLDivergence):
                loss = jnp.mean(
                    loss_fn(jax.nn.softmax(t, axis=-1), jax.nn.softmax(s, axis=-1))
                )
                return loss * (self.temperature**2)
            return jnp.mean(loss_fn(t, s))

        return _sum(_structured(self.loss, apply_loss, t_scaled, s_scaled))


def _is_none(v):
    return v is None


def _structured(loss, fn, teacher, student):
    """`fn(loss, t, s)` per output: one loss for one output, else matching
    structures (lists, tuples, dicts)."""
    if not isinstance(loss, (list, tuple, dict)):
        return [fn(loss, teacher, student)]
    if isinstance(loss, dict):
        return [fn(loss[k], teacher[k], student[k]) for k in loss]
    if len(loss) != len(teacher) or len(teacher) != len(student):
        raise ValueError(
            f"Loss structure mismatch: {len(loss)} losses for {len(teacher)} "
            f"teacher and {len(student)} student outputs."
        )
    return [fn(f, t, s) for f, t, s in zip(loss, teacher, student)]


def _extractor(model, layer_names):
    """A model giving `{"final_output": ..., name: layer output}` from the
    same params as `model` (a sub-model's params are a sub-tree)."""
    from kerax.models.functional import Model

    outputs = {"final_output": model.output}
    for name in layer_names:
        outputs[name] = model.get_layer(name).output
    return Model(model.inputs, outputs, name=f"{model.name}_features")


def _frozen(model):
    from kerax.models.cloning import _with_config

    return model if not model.trainable else _with_config(model, trainable=False)


class Distiller(Layer):
    """Distils a frozen teacher into a student (Keras's `Distiller`).

    A layer with params `{"teacher": ..., "student": ...}`; `apply` returns
    the student's outputs. While a Trainer trains it (`apply_with_losses`),
    it adds `(1 - student_loss_weight) * sum(weight * loss)` over
    `distillation_losses` with `add_loss`, the teacher run in inference mode
    on its params under `stop_gradient`. The teacher is made
    `trainable=False`: the optimizer never updates it. Train it with
    `kerax.Trainer(distiller, optimizer, loss=<student loss>,
    loss_weights=distiller.student_loss_weight)`, which is Keras's total
    loss; put the trained teacher's params in with `with_teacher`.

    Args:
        teacher: the trained kerax model (its params are given, not learned).
        student: the kerax model to train.
        distillation_losses: a `DistillationLoss` or a list of them.
        distillation_loss_weights: one weight per loss (default 1.0 each).
        student_loss_weight: in [0, 1], Keras's weight of the student loss.

    Example:

    >>> teacher = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3)])
    >>> student = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3)])
    >>> d = Distiller(teacher, student, LogitsDistillation(temperature=2.0))
    >>> params, state = d.init(jax.random.key(0), d.input_spec)
    >>> sorted(params)
    ['student', 'teacher']
    >>> x = jnp.ones((2, 4))
    >>> d.apply(params, state, x)[0].shape
    (2, 3)
    >>> loss = d.distillation_loss(params, state, x)  # weighted, before (1 - w)
    >>> loss.shape
    ()
    """

    teacher: Any = None
    student: Any = None
    distillation_losses: Any = None
    distillation_loss_weights: Any = None
    student_loss_weight: float = 0.5

    def __post_init__(self):
        if self.name is None:
            object.__setattr__(self, "name", "distiller")
        for who in ("teacher", "student"):
            model = getattr(self, who)
            if not isinstance(model, Layer):
                raise ValueError(
                    f"Distiller: `{who}` must be a kerax model, got {type(model)}."
                )
        w = self.student_loss_weight
        if not isinstance(w, (int, float)) or isinstance(w, bool):
            raise ValueError(f"student_loss_weight must be a number, got {type(w)}")
        if w < 0.0 or w > 1.0:
            raise ValueError(
                f"student_loss_weight must be between 0.0 and 1.0, got {w}"
            )
        losses = self.distillation_losses
        if losses is None:
            raise ValueError(
                "'distillation_losses' cannot be `None`. Provide a distillation "
                "loss (e.g., LogitsDistillation or FeatureDistillation) or a "
                "list of distillation losses."
            )
        weights = self.distillation_loss_weights
        if not isinstance(losses, (list, tuple)):
            losses, weights = (losses,), (1.0,)
        elif weights is None:
            weights = (1.0,) * len(losses)
        elif len(weights) != len(losses):
            raise ValueError(
                f"Number of distillation_loss_weights ({len(weights)}) must "
                f"match number of distillation_losses ({len(losses)})"
            )
        for loss in losses:
            loss.validate_model_compatibility(self.teacher, self.student)
        object.__setattr__(self, "distillation_losses", tuple(losses))
        object.__setattr__(
            self, "distillation_loss_weights", tuple(float(v) for v in weights)
        )
        object.__setattr__(self, "teacher", _frozen(self.teacher))
        super().__post_init__()

    # The losses and models are configuration objects: keep them as given.
    def children(self):
        return [("teacher", self.teacher), ("student", self.student)]

    @property
    def input_spec(self):
        return self.student.input_spec

    def _layer_names(self, who):
        attr = f"{who}_layer_name"
        names = []
        for loss in self.distillation_losses:
            name = getattr(loss, attr, None)
            if name and name not in names:
                names.append(name)
        return names

    def build(self, key, spec):
        kt, ks = jax.random.split(key)
        tp, tstate = self.teacher.init(kt, spec)
        sp, sstate = self.student.init(ks, spec)
        return {"teacher": tp, "student": sp}, {"teacher": tstate, "student": sstate}

    def _features(self, who, params, state, x, key, training):
        model = getattr(self, who)
        names = self._layer_names(who)
        if names:
            out, new = _extractor(model, names).apply(
                params, state, x, key=key, training=training
            )
        else:
            y, new = model.apply(params, state, x, key=key, training=training)
            out = {"final_output": y}
        return out, new

    def _distill(self, teacher_features, student_features):
        total = jnp.zeros((), jnp.float32)
        for loss, weight in zip(
            self.distillation_losses, self.distillation_loss_weights
        ):
            t_name = loss.teacher_layer_name or "final_output"
            s_name = loss.student_layer_name or "final_output"
            t, s = teacher_features[t_name], student_features[s_name]
            loss.validate_outputs(t, s)
            value = jnp.asarray(loss.compute_loss(t, s))
            if value.ndim:
                raise ValueError(
                    f"Distillation loss {type(loss).__name__} returned a "
                    f"non-scalar loss with shape {value.shape}. The "
                    "compute_loss method must return a scalar."
                )
            total = total + weight * value
        return total

    def _teacher_features(self, params, state, x):
        tp = jax.lax.stop_gradient(params["teacher"])
        out, _ = self._features("teacher", tp, state["teacher"], x, None, False)
        return jax.tree.map(jax.lax.stop_gradient, out)

    def call(self, params, state, x, *, key, training):
        features, sstate = self._features(
            "student", params["student"], state["student"], x, key, training
        )
        new_state = {"teacher": state["teacher"], "student": sstate}
        if aux_losses.is_collecting() and self.student_loss_weight < 1.0:
            teacher = self._teacher_features(params, state, x)
            distill = self._distill(teacher, features)
            aux_losses.add_loss((1.0 - self.student_loss_weight) * distill)
        return features["final_output"], new_state

    def distillation_loss(self, params, state, x, *, key=None, training=False):
        """The weighted sum of the distillation losses on `x` (Keras's
        `distillation_loss` before the `(1 - student_loss_weight)` factor)."""
        student, _ = self._features(
            "student", params["student"], state["student"], x, key, training
        )
        return self._distill(self._teacher_features(params, state, x), student)

    def with_teacher(self, ts, teacher_params, teacher_state=None):
        """`ts` (a TrainState, or a `(params, state)` pair) with the trained
        teacher's params (and state) put in."""
        # Copies: `Trainer.fit` donates the TrainState's buffers, and the
        # caller's teacher arrays must outlive it.
        teacher_params = jax.tree.map(jnp.array, teacher_params)
        pair = isinstance(ts, tuple) and not hasattr(ts, "_replace")
        params, state = ts if pair else (ts.params, ts.state)
        params = {**params, "teacher": teacher_params}
        state = dict(state)
        if teacher_state is not None:
            state["teacher"] = jax.tree.map(jnp.array, teacher_state)
        return (params, state) if pair else ts._replace(params=params, state=state)
