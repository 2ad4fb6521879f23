"""Speed trick: how the pricing records are built cheaply.

Plan: the ``__init__`` that ``@dataclass(frozen=True)`` generates stores each field with
``object.__setattr__`` (to get past the frozen ``__setattr__``), which costs several times a
plain slot store. Two remedies, by how often a record is built:

- records built once per price call or per session (stage results, boundaries): frozen and
  slotted, decorated with :func:`fast_frozen`, which replaces the generated ``__init__`` with
  one that stores each field through its slot descriptor, the store the generated one ends in.
  The instances are the same: same class, same slots, still frozen (assignment raises
  ``FrozenInstanceError``), same ``__eq__``, ``__hash__`` and ``__repr__``.
- records built for every period, piece or boundary of a period, or read there (the loop
  records: the classified period, the match context, a cut, the walk's settings and group
  state): ``@dataclass(slots=True)`` without ``frozen``, whose generated ``__init__`` is the
  plain slot store. They are immutable by convention, which each one's docstring states:
  nothing assigns a field after the record is built.

Invariants: for a class decorated with :func:`fast_frozen`, ``cls(*values)`` equals an instance
built by the generated ``__init__``, kept as ``cls.__plain_init__`` as the reference the tests
compare against. Only classes the plain ``__init__`` would build the same way are accepted:
frozen, slotted, every field an ``init`` field without a default, and no ``__post_init__``. For
the loop records (:data:`LOOP_RECORDS` lists them by module and name), the tests price the
tariff cases with every field guarded against a second store and compare the results with the
unguarded run.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from types import FunctionType
from typing import TypeVar

__all__ = ["LOOP_RECORDS", "fast_frozen"]

RecordT = TypeVar("RecordT")

#: the records that are immutable by convention only, as ``(module, class name)``
LOOP_RECORDS = (
    ("ocpikit.tariffs.periods", "ClassifiedPeriod"),
    ("ocpikit.tariffs.restrictions", "MatchContext"),
    ("ocpikit.tariffs.splitting", "Cut"),
    ("ocpikit.tariffs.period_pricing", "PeriodWalk"),
    ("ocpikit.tariffs.period_pricing", "GroupState"),
)


def fast_frozen(cls: type[RecordT]) -> type[RecordT]:
    """Class decorator, applied above ``@dataclass(frozen=True, slots=True)`` (see the plan)."""
    params = getattr(cls, "__dataclass_params__", None)
    if not is_dataclass(cls) or params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} must be slotted and have no __post_init__")
    declared = fields(cls)
    if any(
        not f.init or f.default is not MISSING or f.default_factory is not MISSING for f in declared
    ):
        raise TypeError(f"{cls.__name__}: every field must be an init field without default")
    names = [f.name for f in declared]
    namespace: dict[str, object] = {f"_set_{name}": cls.__dict__[name].__set__ for name in names}
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names) or "    pass\n"
    # generated source, as dataclasses generates the __init__ it replaces
    exec(f"def __init__(self, {', '.join(names)}):\n{body}", namespace)
    init = namespace["__init__"]
    assert isinstance(init, FunctionType)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    type.__setattr__(cls, "__plain_init__", cls.__init__)
    type.__setattr__(cls, "__init__", init)
    return cls
