"""Speed trick: build frozen slotted dataclasses without their generated ``__init__``.

Plan: a frozen dataclass's ``__init__`` stores each field through ``object.__setattr__`` (to
get past the frozen ``__setattr__``), which costs several times a plain slot store. The pricing
loop builds a few records per period and per piece; for those, :func:`record_builder` returns a
function that allocates the instance with ``object.__new__`` and stores each field through its
slot descriptor (the same store the plain ``__init__`` ends in, minus the generic lookup).

Invariant: ``record_builder(cls)(*values) == cls(*values)`` for the classes it accepts: frozen
slotted dataclasses whose fields are all ``init`` fields and that have no ``__post_init__`` (it
refuses others). The plain constructor stays the reference; the tests compare both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import TypeVar

__all__ = ["record_builder"]

RecordT = TypeVar("RecordT")


def record_builder(cls: type[RecordT]) -> Callable[..., RecordT]:
    """A positional constructor of ``cls`` equivalent to ``cls(*values)`` (see the plan)."""
    params = getattr(cls, "__dataclass_params__", None)
    if not is_dataclass(cls) or params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} must be slotted and have no __post_init__")
    names = [f.name for f in fields(cls)]
    if any(not f.init for f in fields(cls)):
        raise TypeError(f"{cls.__name__} has fields outside __init__")
    namespace: dict[str, object] = {"_new": object.__new__, "_cls": cls}
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
    body = "".join(f"    _set_{name}(record, {name})\n" for name in names)
    source = (
        f"def build_{cls.__name__}({', '.join(names)}):\n"
        f"    record = _new(_cls)\n{body}    return record\n"
    )
    exec(source, namespace)  # the same technique as dataclasses' own generated __init__
    build = namespace[f"build_{cls.__name__}"]
    assert callable(build)
    return build
