"""One registry of names for every serializable family; it imports nothing from kerax.

Keras's vocabulary (`"relu"`, `"glorot_uniform"`, `"Dense"`, `"adam"`) and
the `{"class_name", "config"}` dicts it writes are looked up here, one table
per family (`layers`, `activations`, `initializers`, `regularizers`,
`constraints`, `losses`, `metrics`, `optimizers`, `schedules`,
`callbacks`). Each family module fills its own table when it is imported
(`add`), with its public names only: a private base class such as
`_BaseConv` is never loadable from a config. Users add their own objects
with `register`, which is `kerax.register`.

`get`, `serialize` and `deserialize` are written once here; every family's
public functions of those names are a few lines delegating to them, with
Keras's behaviour: names, `{"class_name", "config"}` dicts (Keras's extra
`module` and `registered_name` keys included), classes (instantiated with
their defaults), instances and plain callables.

Loading never imports a module named by a config: a name resolves only
through these tables, the user's registrations and the `custom_objects`
passed to the loader.

Example:
    >>> from kerax.core import registry
    >>> registry.lookup("activations", "relu").__name__
    'relu'
    >>> registry.get("regularizers", {"class_name": "L2", "config": {"l2": 0.5}})
    L2(l2=0.5)
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any


@dataclasses.dataclass
class Family:
    """The table of one family: public names to objects.

    Attributes:
        name: The family, as Keras names its module (`"initializers"`).
        kind: One object of the family, for messages (`"initializer"`).
        module: The `module` Keras writes in serialized dicts
            (`"keras.initializers"`).
        objects: Public name (canonical names and aliases) to object.
        canonical: Object to the name `serialize` writes (its first name).
        base: Instances of this class belong to the family (set by the
            family module with `set_base`), so `family_of` can tell which
            table serializes a config value.
        function_as_name: `serialize` writes a built-in function as its bare
            name, as Keras does for activations (`"relu"`).
        named_functions: `serialize` writes any named function by its
            `__name__`, registered or not, as Keras does for losses and
            metrics (loading it back still needs a registered name).
        get: The family's public `get` (with its own rules, e.g. arrays as
            initializers), set by the family module, so that `core` resolves
            layer arguments without importing the family (`resolve`).
    """

    name: str
    kind: str
    module: str
    objects: dict[str, Any] = dataclasses.field(default_factory=dict)
    canonical: dict[Any, str] = dataclasses.field(default_factory=dict)
    base: type | None = None
    function_as_name: bool = False
    named_functions: bool = False
    get: Callable[[Any], Any] | None = None


def _families() -> dict[str, Family]:
    rows = (
        ("layers", "layer", "keras.layers"),
        ("activations", "activation", "keras.activations"),
        ("initializers", "initializer", "keras.initializers"),
        ("regularizers", "regularizer", "keras.regularizers"),
        ("constraints", "constraint", "keras.constraints"),
        ("losses", "loss", "keras.losses"),
        ("metrics", "metric", "keras.metrics"),
        # Functions usable as metrics (metric and loss functions): Keras names
        # functions and classes alike ("accuracy" is also `Accuracy`).
        ("metric_functions", "metric function", "keras.metrics"),
        ("optimizers", "optimizer", "keras.optimizers"),
        ("schedules", "learning rate schedule", "keras.optimizers.schedules"),
        ("callbacks", "callback", "keras.callbacks"),
    )
    return {name: Family(name, kind, module) for name, kind, module in rows}


FAMILIES: dict[str, Family] = _families()
FAMILIES["activations"].function_as_name = True
for _name in ("losses", "metrics", "metric_functions"):
    FAMILIES[_name].named_functions = True
del _name

# What users registered (`kerax.register`), by registered name, across families
# as in Keras's `register_keras_serializable`.
_CUSTOM: dict[str, Any] = {}
_CUSTOM_NAMES: dict[int, str] = {}
# `custom_objects=` of the loader in progress (`custom_object_scope`).
_SCOPE: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "kerax_custom_objects", default=None
)
# Implementations a higher floor provides to a lower one (e.g. `summary`,
# provided by `kerax.models` to `Layer.summary`), so that imports point down.
_PROVIDED: dict[str, Callable[..., Any]] = {}

# Keras's default package in `register_keras_serializable` ("Custom>name").
KERAS_DEFAULT_PACKAGE = "Custom"


def family(name: str) -> Family:
    """The `Family` called `name`, or a `ValueError` listing the families."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown registry family {name!r}. Families: {sorted(FAMILIES)}."
        ) from None


# ------------------------------------------------------------------ filling
def add(family_name: str, obj: Any, *names: str) -> Any:
    """Adds a public kerax object to a family; the first name is canonical.

    `names` default to `obj.__name__`. A private name (leading underscore) or
    a name already bound to another object is an error: the table holds
    public names only, and never silently replaces one.

    Returns:
        `obj`, so `add` also works as a decorator body.
    """
    fam = family(family_name)
    names = names or (obj.__name__,)
    for name in names:
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise ValueError(
                f"registry.add: {name!r} is not a public name; private classes such as "
                f"{obj!r} must not be loadable from a config."
            )
        existing = fam.objects.get(name)
        if existing is not None and existing is not obj:
            raise ValueError(
                f"registry.add: the {fam.kind} name {name!r} is already bound to "
                f"{existing!r}; cannot bind it to {obj!r}."
            )
        fam.objects[name] = obj
    fam.canonical.setdefault(obj, names[0])
    return obj


def add_all(family_name: str, objects: Mapping[str, Any]) -> None:
    """Adds `{name: object}`; objects seen twice keep their first name as canonical."""
    for name, obj in objects.items():
        add(family_name, obj, name)


def set_base(family_name: str, base: type) -> None:
    """Declares that instances of `base` belong to `family_name`."""
    family(family_name).base = base


def set_get(family_name: str, get_fn: Callable[[Any], Any]) -> None:
    """Declares the family's public `get`, used by `resolve`."""
    family(family_name).get = get_fn


def resolve(family_name: str, identifier: Any):
    """`kerax.<family>.get(identifier)`, without importing the family module."""
    fam = family(family_name)
    if fam.get is None:
        raise ValueError(
            f"kerax.{fam.name} is not loaded, so {identifier!r} cannot be resolved: "
            f"`import kerax` (or kerax.{fam.name}) first."
        )
    return fam.get(identifier)


def register(obj=None, *, name: str | None = None, package: str | None = None):
    """Registers a custom class or function so that configs can name it.

    Use as a decorator (`@kerax.register`, `@kerax.register(package="pkg")`)
    or call it (`kerax.register(MyLayer)`). The registered name is
    `name` (default: the object's `__name__`), prefixed `"package>"` when
    `package` is given, as Keras's `register_keras_serializable(package=...)`
    does. A class registered under a name other than its own is saved under
    that name. Only registered names can be loaded: a file cannot make the
    loader import or run anything else.

    Example:
        >>> def half(x):
        ...     return x / 2
        >>> _ = register(half, package="docs")
        >>> registered_name(half)
        'docs>half'
    """

    def do(o):
        base = name or getattr(o, "__name__", None)
        if not base:
            raise ValueError(
                f"kerax.register: cannot find a name for {o!r}; pass name=..."
            )
        key = f"{package}>{base}" if package else base
        existing = _CUSTOM.get(key)
        if existing is not None and existing is not o:
            raise ValueError(
                f"kerax.register: the name {key!r} is already registered to {existing!r}. "
                f'Register {o!r} under another name: kerax.register(..., name="package>{base}").'
            )
        _CUSTOM[key] = o
        # The first name an object is registered under is the one saved,
        # unless the entry is stale: ids are reused once an object is freed
        # (a class redefined in a loop or a notebook), and a stale entry
        # would leave this object nameless.
        current = _CUSTOM_NAMES.get(id(o))
        if current is None or _CUSTOM.get(current) is not o:
            _CUSTOM_NAMES[id(o)] = key
        return o

    return do if obj is None else do(obj)


def registered_name(obj: Any) -> str | None:
    """The name `obj` was registered under with `register`, or None."""
    key = _CUSTOM_NAMES.get(id(obj))
    return key if key is not None and _CUSTOM.get(key) is obj else None


def custom_objects() -> dict[str, Any]:
    """The live table of registered objects, by registered name (Keras's `get_custom_objects`).

    Changes to it (`.clear()`, `table[name] = obj`) change what loads, as in
    Keras; `register` is the way to add an object that saving should name.

    Example:
        >>> def third(x):
        ...     return x / 3
        >>> _ = register(third, package="docs")
        >>> custom_objects()["docs>third"] is third
        True
    """
    return _CUSTOM


@contextlib.contextmanager
def custom_object_scope(custom_objects: Mapping[str, Any] | None) -> Iterator[None]:
    """Makes `{name: object}` loadable inside the `with` block (Keras's name).

    Example:
        >>> with custom_object_scope({"half": lambda x: x / 2}):
        ...     lookup_custom("half")(4.0)
        2.0
    """
    outer = _SCOPE.get() or {}
    token = _SCOPE.set({**outer, **(custom_objects or {})})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def provide(what: str, implementation: Callable[..., Any]) -> None:
    """A higher floor provides `what` (e.g. `"summary"`) to the floors below."""
    _PROVIDED[what] = implementation


def provided(what: str) -> Callable[..., Any]:
    """The implementation of `what`, or a `ValueError` saying who provides it."""
    try:
        return _PROVIDED[what]
    except KeyError:
        raise ValueError(
            f"No implementation of {what!r} is loaded: `import kerax` (which imports "
            "kerax.models and every family) before using it."
        ) from None


# ----------------------------------------------------------------- looking up
def lookup_custom(name: str, custom_objects: Mapping[str, Any] | None = None):
    """A user object by name: `custom_objects`, the loader's scope, `register`.

    A Keras name with Keras's default package (`"Custom>my_fn"`, what
    `@keras.saving.register_keras_serializable()` writes) also finds an
    object registered with kerax under its bare name (`"my_fn"`).
    Returns None when nothing is registered under `name`.
    """
    if not isinstance(name, str):
        return None
    candidates = [name]
    prefix = KERAS_DEFAULT_PACKAGE + ">"
    if name.startswith(prefix):
        candidates.append(name[len(prefix) :])
    for table in (custom_objects, _SCOPE.get(), _CUSTOM):
        for candidate in candidates:
            if table and table.get(candidate) is not None:
                return table[candidate]
    return None


def lookup(
    family_name: str, name: str, custom_objects: Mapping[str, Any] | None = None
):
    """The object called `name` in a family (the user's objects first).

    Raises:
        ValueError: nothing of that name; the message lists the family's
            names, the families, and how to register an object.
    """
    fam = family(family_name)
    found = lookup_custom(name, custom_objects)
    if found is not None:
        return found
    if isinstance(name, str) and name in fam.objects:
        return fam.objects[name]
    raise unknown(family_name, name)


def unknown(family_name: str, name: Any) -> ValueError:
    """The error for a name that no table holds."""
    fam = family(family_name)
    if fam.objects:
        known = f"Valid names: {sorted(fam.objects)}"
    else:
        known = (
            f"The {fam.name} table is empty: `import kerax` first (each family "
            "fills its table when it is imported)"
        )
    filled = sorted(f.name for f in FAMILIES.values() if f.objects)
    return ValueError(
        f"Unknown {fam.kind} {name!r}. {known}. If it is your own, register it "
        f"before loading: `kerax.register(...)`. Registered families: {filled}."
    )


def canonical_name(family_name: str, obj: Any) -> str | None:
    """The name `serialize` writes for a built-in object, or None."""
    try:
        return family(family_name).canonical.get(obj)
    except TypeError:  # Unhashable objects are never in a table.
        return None


def family_of(obj: Any) -> str | None:
    """The family whose table or base class holds `obj` (instance, class or function)."""
    for fam in FAMILIES.values():
        if fam.base is not None and isinstance(obj, fam.base):
            return fam.name
    for fam in FAMILIES.values():
        if canonical_name(fam.name, obj) is not None:
            return fam.name
    return None


# ------------------------------------------------------------- get/serialize
def serialize(family_name: str, obj: Any) -> dict[str, Any] | str:
    """Keras's serialized form of a family object.

    Instances give `{"module", "class_name", "config", "registered_name"}`;
    functions give Keras's `{"module": "builtins", "class_name": "function",
    "config": name, "registered_name": "function"}`, or the bare name for
    families that write one (built-in activations: `"relu"`).

    Raises:
        ValueError: `obj` is neither a kerax object of the family nor
            registered with `kerax.register`.
    """
    fam = family(family_name)
    is_function = not inspect.isclass(obj) and not hasattr(obj, "get_config")
    if is_function:
        custom = registered_name(obj)
        builtin = canonical_name(family_name, obj)
        if custom is None and builtin is None:
            if not (fam.named_functions and getattr(obj, "__name__", None)):
                raise _not_serializable(fam, obj)
            builtin = obj.__name__
        elif builtin is not None and fam.function_as_name:
            return builtin
        return {
            "module": "builtins",
            "class_name": "function",
            "config": custom or builtin,
            "registered_name": "function",
        }
    cls = obj if inspect.isclass(obj) else type(obj)
    custom = registered_name(cls)
    builtin = canonical_name(family_name, cls)
    if custom is None and builtin is None:
        raise _not_serializable(fam, obj)
    config = {} if inspect.isclass(obj) else obj.get_config()
    return {
        "module": fam.module if custom is None else cls.__module__,
        "class_name": builtin or cls.__name__,
        "config": config,
        "registered_name": custom,
    }


def _not_serializable(fam: Family, obj: Any) -> ValueError:
    return ValueError(
        f"{fam.kind.capitalize()} {obj!r} cannot be serialized: it is not a kerax "
        f"{fam.kind}. Register custom {fam.kind}s with `kerax.register` to save them."
    )


def deserialize(
    family_name: str,
    config: str | dict[str, Any] | None,
    custom_objects: Mapping[str, Any] | None = None,
):
    """The object a name or a Keras `{"class_name", "config"}` dict describes.

    A name gives the table's object itself (a class stays a class); a dict
    gives an instance built with `from_config`, or the function it names.
    Keras's `registered_name` is looked up among the user's objects first.

    Raises:
        ValueError: an unknown name, a malformed dict, or a config the class
            refuses.
    """
    fam = family(family_name)
    if config is None:
        return None
    if isinstance(config, str):
        return lookup(family_name, config, custom_objects)
    if not isinstance(config, dict) or "class_name" not in config:
        article = "An" if fam.kind[0] in "aeiou" else "A"
        raise ValueError(
            f"{article} {fam.kind} config must be a dict with 'class_name' and 'config' "
            f"keys. Received: {config!r}"
        )
    class_name, inner = config["class_name"], config.get("config")
    if class_name == "function":
        # Keras: built-in functions name themselves in "config", registered ones too
        # ("Custom>fn"); older files put the name in "registered_name".
        name = inner if isinstance(inner, str) else config.get("registered_name")
        return lookup(family_name, name, custom_objects)
    obj = lookup_custom(config.get("registered_name"), custom_objects)
    if obj is None:
        obj = lookup(family_name, class_name, custom_objects)
    if not inspect.isclass(obj):
        if inner:
            # Arguments would need a partial that could not round-trip: refuse
            # rather than drop them.
            raise ValueError(
                f"Cannot deserialize {fam.kind} {config!r}: {class_name!r} is a function "
                "and takes no config."
            )
        return obj
    from_config = getattr(obj, "from_config", None)
    if from_config is None:
        raise ValueError(
            f"{fam.kind.capitalize()} class {obj.__name__} has no from_config; it cannot "
            "be built from a config."
        )
    try:
        return from_config(dict(inner or {}))
    except TypeError as e:
        raise ValueError(f"Invalid config for {fam.kind} {obj.__name__}: {e}") from None


def get(
    family_name: str, identifier: Any, custom_objects: Mapping[str, Any] | None = None
):
    """Keras's `get`: None, a name, a config dict, a class or a callable.

    A name or a dict is looked up; a class (from a name too) is instantiated
    with its defaults; any other callable is returned as is. Families with
    other rules (activations: None is linear; initializers: arrays) wrap
    this.

    Raises:
        ValueError: the identifier cannot be interpreted.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(family_name, identifier, custom_objects)
    elif isinstance(identifier, str):
        obj = lookup(family_name, identifier, custom_objects)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    fam = family(family_name)
    raise ValueError(
        f"Could not interpret {fam.kind} identifier: {identifier!r}. Use a name from "
        f"{sorted(fam.objects)}, a config dict, a class or a callable."
    )
