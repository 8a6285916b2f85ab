"""fast_init: a quicker ``__init__`` for the frozen, slotted records built many times a second.

A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__(self, name,
value)``, a generic attribute lookup per field, because its own ``__setattr__`` refuses
every assignment. On a 2,000-channel rig the engine builds tens of thousands of model
records a second (channels, meter samples, history points, alert targets), and that lookup
was about a tenth of its time. :func:`fast_init` replaces the generated ``__init__`` with one
that stores each field through its slot's descriptor directly: the same arguments, defaults,
factories and ``__post_init__``, about twice as fast, and the record stays frozen (assigning
to it still raises :class:`dataclasses.FrozenInstanceError`).

Its :func:`replace` is :func:`dataclasses.replace` (and checked as such by mypy), rebuilding
such a record positionally instead of through a loop over its fields in Python.

Only plain records are accepted: frozen, slotted, every field an ``__init__`` parameter, no
keyword-only fields and no ``InitVar``. Anything else is refused when the class is defined,
so a record that outgrows it fails at import, not with a wrong object at run time.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

_REPLACED: Final[dict[type, Callable[..., None]]] = {}
"""Every class given a fast ``__init__``, with the dataclass-generated one it replaced (for
the differential test)."""
_PLANS: Final[dict[type, tuple[Callable[[Any], tuple[object, ...]], dict[str, int]]]] = {}
"""Per fast class: a getter of every field in order, and each field's position."""


class _HasFactory:
    """Marks a parameter whose default comes from a factory (one shared instance)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY: Final = _HasFactory()


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    """Return the ``__set__`` of the slot descriptor holding ``name`` (own class or a base)."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if isinstance(descriptor, types.MemberDescriptorType):
            return descriptor.__set__
        if descriptor is not None:
            break
    raise TypeError(f"fast_init: {cls.__qualname__}.{name} is not a slot")


def _check(cls: type) -> list[dataclasses.Field[Any]]:
    """Return the init fields of ``cls``, or raise TypeError when it is not a plain record."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"fast_init: {cls.__qualname__} is not a frozen dataclass")
    if "__slots__" not in cls.__dict__:
        raise TypeError(f"fast_init: {cls.__qualname__} is not slotted")
    every: dict[str, dataclasses.Field[Any]] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    if len(fields) != len(every):  # ClassVar or InitVar pseudo-fields
        raise TypeError(f"fast_init: {cls.__qualname__} has ClassVar or InitVar fields")
    for field in fields:
        if not field.init or field.kw_only:
            raise TypeError(f"fast_init: {cls.__qualname__}.{field.name} is init=False or kw_only")
    return list(fields)


def fast_init[T](cls: type[T]) -> type[T]:
    """Give the frozen, slotted dataclass ``cls`` a faster ``__init__`` (module docstring)."""
    fields = _check(cls)
    # The setters, defaults and factories reach the new __init__ as closure cells, so its
    # globals can be the class's module, as with the generated one: type hints of the
    # __init__ resolve there (typing.get_type_hints, hypothesis' builds()).
    helpers: dict[str, object] = {"__fi_factory": _FACTORY}
    params: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields):
        name = field.name
        helpers[f"__fi_set_{index}"] = _slot_setter(cls, name)
        value = name
        if field.default is not dataclasses.MISSING:
            helpers[f"__fi_default_{index}"] = field.default
            params.append(f"{name}=__fi_default_{index}")
        elif field.default_factory is not dataclasses.MISSING:
            helpers[f"__fi_make_{index}"] = field.default_factory
            params.append(f"{name}=__fi_factory")
            value = f"__fi_make_{index}() if {name} is __fi_factory else {name}"
        else:
            params.append(name)
        body.append(f"        __fi_set_{index}(self, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("        self.__post_init__()")
    source = (
        f"def __fi_build({', '.join(helpers)}):\n"
        f"    def __init__(self, {', '.join(params)}):\n"
        + ("\n".join(body) or "        pass")
        + "\n    return __init__\n"
    )
    scope: dict[str, Any] = {}
    exec(source, scope)  # built from field names only, as dataclasses builds its own
    built = scope["__fi_build"](**helpers)
    module = sys.modules.get(cls.__module__)
    init: Any = types.FunctionType(
        built.__code__,
        vars(module) if module is not None else scope,
        "__init__",
        built.__defaults__,
        built.__closure__,
    )
    original: Any = cls.__dict__["__init__"]
    init.__qualname__ = original.__qualname__
    init.__module__ = original.__module__
    init.__annotations__ = dict(original.__annotations__)
    init.__doc__ = original.__doc__
    _REPLACED[cls] = original
    type.__setattr__(cls, "__init__", init)
    names = [field.name for field in fields]
    if len(names) > 1:  # attrgetter of one name returns the value, not a 1-tuple
        _PLANS[cls] = (attrgetter(*names), {name: i for i, name in enumerate(names)})
    return cls


if TYPE_CHECKING:
    # Checked as dataclasses.replace is: mypy's dataclass plugin checks every change.
    from dataclasses import replace as replace
else:

    def replace(obj, /, **changes):
        """Return ``obj`` with ``changes``, as :func:`dataclasses.replace` does, faster.

        A fast record is rebuilt positionally from one getter of all its fields (what
        ``dataclasses.replace`` does with a loop over the fields in Python); any other
        dataclass goes to ``dataclasses.replace``.
        """
        plan = _PLANS.get(type(obj))
        if plan is None:
            return dataclasses.replace(obj, **changes)
        getter, positions = plan
        values = list(getter(obj))
        for name, value in changes.items():
            position = positions.get(name)
            if position is None:
                raise TypeError(
                    f"{type(obj).__qualname__}.__init__() got an unexpected keyword argument "
                    f"{name!r}"
                )
            values[position] = value
        return type(obj)(*values)


def replaced_inits() -> dict[type, Callable[..., None]]:
    """Return every class given a fast ``__init__`` with the generated one it replaced."""
    return dict(_REPLACED)
