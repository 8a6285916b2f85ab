"""fast_init: the same records as the dataclass-generated ``__init__``, built faster."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micboard_desktop.engine.engine  # noqa: F401 - imports every record module that uses it
from micboard_desktop.core.fast_init import fast_init, replace, replaced_inits


def _slots(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def _init(cls: type) -> Any:
    return vars(cls)["__init__"]


def _outcome(cls: type, init: Any, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
    """What one way of building gives: the field values, or the type of the error raised."""
    obj: object = object.__new__(cls)
    try:
        init(obj, *args, **kwargs)
    except Exception as exc:  # the comparison is the point: which error, if any
        return type(exc)
    return _slots(obj)


def test_the_hot_records_use_it() -> None:
    names = {cls.__qualname__ for cls in replaced_inits()}
    assert {"Channel", "Receiver", "Rf", "Audio", "MeterSample", "HistoryPoint", "Target"} <= names


def _name(cls: type) -> str:
    return cls.__qualname__


_RECORDS: list[type] = sorted(replaced_inits(), key=_name)


@pytest.mark.parametrize("cls", _RECORDS, ids=_name)
def test_every_record_builds_as_the_dataclass_init_did(cls: type) -> None:
    original = replaced_inits()[cls]
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]
    # Printed, as a factory default is each side's own marker (both print "<factory>").
    assert str(inspect.signature(_init(cls))) == str(inspect.signature(original))
    # All positional, all by keyword in reverse order, only the required ones.
    positional = tuple(values)
    assert _outcome(cls, _init(cls), positional, {}) == _outcome(cls, original, positional, {})
    by_name = {f.name: v for f, v in reversed(list(zip(fields, values, strict=True)))}
    assert _outcome(cls, _init(cls), (), by_name) == _outcome(cls, original, (), by_name)
    required = {f.name: v for f, v in zip(fields, values, strict=True)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert _outcome(cls, _init(cls), (), required) == _outcome(cls, original, (), required)
    # Wrong calls fail the same way.
    assert _outcome(cls, _init(cls), (), {**by_name, "no_such_field": 1}) is TypeError
    assert _outcome(cls, _init(cls), (*values, 1), {}) is TypeError
    if required:
        assert _outcome(cls, _init(cls), (), {}) is TypeError


@pytest.mark.parametrize("cls", _RECORDS, ids=_name)
def test_type_hints_of_every_init_resolve_as_before(cls: type) -> None:
    # hypothesis' builds() and typing read them; they resolve in the record's module.
    assert typing.get_type_hints(_init(cls)) == typing.get_type_hints(replaced_inits()[cls])


def test_a_record_stays_frozen() -> None:
    from micboard_desktop.core.model import Audio

    audio = Audio(rms_dbfs=-20.0, peak_dbfs=-10.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        audio.rms_dbfs = 0.0  # type: ignore[misc]
    assert audio == Audio(-20.0, -10.0)
    assert hash(audio) == hash(Audio(-20.0, -10.0))


def test_default_factories_give_each_record_its_own_value() -> None:
    @fast_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Holder:
        items: list[int] = dataclasses.field(default_factory=list)

    first, second = Holder(), Holder()
    assert first.items == []
    assert first.items is not second.items
    given_list = [1]
    assert Holder(given_list).items is given_list


def test_post_init_runs_after_every_field_is_set() -> None:
    seen: list[tuple[int, int]] = []

    @fast_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        low: int
        high: int = 5

        def __post_init__(self) -> None:
            seen.append((self.low, self.high))
            if self.low > self.high:
                raise ValueError("low above high")

    Checked(1)
    with pytest.raises(ValueError, match="low above high"):
        Checked(9, 2)
    assert seen == [(1, 5), (9, 2)]


def test_inherited_fields_are_set_through_the_base_slots() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @fast_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived(Base):
        b: int = 2

    assert _slots(Derived(1)) == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    "decorate",
    [
        lambda c: dataclasses.dataclass(slots=True)(c),
        lambda c: dataclasses.dataclass(frozen=True)(c),
    ],
    ids=["not frozen", "not slotted"],
)
def test_anything_but_a_frozen_slotted_dataclass_is_refused(decorate: Any) -> None:
    class Plain:
        a: int

    with pytest.raises(TypeError, match="fast_init"):
        fast_init(decorate(Plain))


@pytest.mark.parametrize(
    "spec",
    [
        {"kw_only": True},
        {"init": False, "default": 0},
    ],
    ids=["kw_only", "init=False"],
)
def test_fields_it_cannot_build_are_refused(spec: dict[str, Any]) -> None:
    cls = dataclasses.make_dataclass(
        "Odd", [("a", int, dataclasses.field(**spec))], frozen=True, slots=True
    )
    with pytest.raises(TypeError, match="fast_init"):
        fast_init(cls)


def test_an_initvar_is_refused() -> None:
    cls = dataclasses.make_dataclass(
        "WithInitVar", [("a", int), ("b", dataclasses.InitVar[int])], frozen=True, slots=True
    )
    with pytest.raises(TypeError, match="fast_init"):
        fast_init(cls)


_DEFAULT_KINDS = st.sampled_from(["required", "default", "factory"])


@given(
    kinds=st.lists(_DEFAULT_KINDS, min_size=0, max_size=6),
    n_positional=st.integers(0, 8),
    keyword_picks=st.lists(st.integers(0, 7), max_size=8),
    extra=st.booleans(),
)
def test_any_record_shape_and_call_behaves_as_the_dataclass_init(
    kinds: list[str], n_positional: int, keyword_picks: list[int], extra: bool
) -> None:
    # Dataclasses refuse a required field after one with a default: keep the order legal.
    kinds = sorted(kinds, key=lambda k: k != "required")
    specs: list[tuple[str, type, Any]] = []
    for index, kind in enumerate(kinds):
        if kind == "required":
            specs.append((f"f{index}", int, dataclasses.field()))
        elif kind == "default":
            specs.append((f"f{index}", int, dataclasses.field(default=-index)))
        else:
            specs.append((f"f{index}", list, dataclasses.field(default_factory=list)))
    stock = dataclasses.make_dataclass("Shape", specs, frozen=True, slots=True)
    fast: type = fast_init(dataclasses.make_dataclass("Shape", specs, frozen=True, slots=True))
    args = tuple(range(100, 100 + n_positional))
    kwargs: dict[str, object] = {f"f{i}": 1000 + i for i in keyword_picks}
    if extra:
        kwargs["unknown"] = 1
    got = _outcome(fast, _init(fast), args, kwargs)
    assert got == _outcome(stock, _init(stock), args, kwargs)


def _replaced(how: Any, obj: object, changes: dict[str, object]) -> object:
    try:
        made = how(obj, **changes)
    except Exception as exc:  # the comparison is the point: which error, if any
        return type(exc)
    return (type(made), _slots(made))


@pytest.mark.parametrize("cls", _RECORDS, ids=_name)
def test_replace_gives_what_dataclasses_replace_gives_on_every_record(cls: type) -> None:
    fields = dataclasses.fields(cls)
    record: object = object.__new__(cls)
    _init(cls)(record, *[object() for _ in fields])
    for field in fields:
        change = {field.name: object()}
        assert _replaced(replace, record, change) == _replaced(dataclasses.replace, record, change)
    every = {f.name: object() for f in fields}
    assert _replaced(replace, record, every) == _replaced(dataclasses.replace, record, every)
    assert _replaced(replace, record, {}) == _replaced(dataclasses.replace, record, {})
    assert _replaced(replace, record, {"no_such_field": 1}) is TypeError


def test_replace_leaves_the_record_it_was_given_alone() -> None:
    from micboard_desktop.core.model import Audio

    audio = Audio(rms_dbfs=-20.0, peak_dbfs=-10.0)
    louder = replace(audio, peak_dbfs=-3.0)
    assert louder == Audio(-20.0, -3.0)
    assert audio == Audio(-20.0, -10.0)


def test_replace_of_any_other_dataclass_is_dataclasses_replace() -> None:
    @dataclasses.dataclass(slots=True)
    class Loose:
        a: int
        b: int = 2

    assert replace(Loose(1), b=5) == Loose(1, 5)


@given(
    n_fields=st.integers(1, 6),
    changed=st.lists(st.integers(0, 7), max_size=6),
    extra=st.booleans(),
)
def test_replace_on_any_record_shape_matches_dataclasses_replace(
    n_fields: int, changed: list[int], extra: bool
) -> None:
    specs = [(f"f{i}", int) for i in range(n_fields)]
    cls: type = fast_init(dataclasses.make_dataclass("Shape", specs, frozen=True, slots=True))
    record = cls(*range(n_fields))
    changes: dict[str, object] = {f"f{i}": -i for i in changed}
    if extra:
        changes["unknown"] = 1
    assert _replaced(replace, record, changes) == _replaced(dataclasses.replace, record, changes)
