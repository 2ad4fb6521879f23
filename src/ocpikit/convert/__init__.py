"""Translation between OCPI 2.1.1, 2.2.1 and 2.3.0 (head), with declared losses.

- :func:`convert` moves the JSON form of one object between any two supported versions by
  composing neighbour steps (2.1.1 ⇄ 2.2.1 ⇄ 2.3.0).
- :func:`to_head` / :func:`from_head` do the same for models and return the validated target
  model together with the list of :class:`Loss` records.
- :data:`LOSS_TABLE` lists every lossy mapping (:class:`LossRule`); tests and docs read it.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert import v2_1_1__v2_2_1 as _step1
from ocpikit.convert import v2_2_1__v2_3_0 as _step2
from ocpikit.convert.base import Context, Converter, Loss, LossRule, join_path
from ocpikit.core.versions import HEAD, V2_1_1, V2_2_1, V2_3_0, Version
from ocpikit.models import OBJECTS, model_for
from ocpikit.models.base import OcpiModel

__all__ = [
    "LOSS_TABLE",
    "Context",
    "Loss",
    "LossRule",
    "convert",
    "from_head",
    "join_path",
    "to_head",
]

_CHAIN: tuple[Version, ...] = (V2_1_1, V2_2_1, V2_3_0)
_STEPS: dict[tuple[Version, Version], dict[str, Converter]] = {
    (V2_1_1, V2_2_1): _step1.UP,
    (V2_2_1, V2_1_1): _step1.DOWN,
    (V2_2_1, V2_3_0): _step2.UP,
    (V2_3_0, V2_2_1): _step2.DOWN,
}

#: every lossy mapping between neighbouring versions
LOSS_TABLE: tuple[LossRule, ...] = tuple(_step1.RULES) + tuple(_step2.RULES)


def _version(v: Version | str) -> Version:
    version = v if isinstance(v, Version) else Version(v)
    if version not in _CHAIN:
        raise ValueError(f"unsupported OCPI version {version}; supported: 2.1.1, 2.2.1, 2.3.0")
    return version


def _hops(source: Version, target: Version) -> list[tuple[Version, Version]]:
    i, j = _CHAIN.index(source), _CHAIN.index(target)
    step = 1 if j > i else -1
    return [(_CHAIN[k], _CHAIN[k + step]) for k in range(i, j, step)]


def convert(
    data: dict[str, Any],
    obj: str,
    source: Version | str,
    target: Version | str,
    ctx: Context | None = None,
) -> tuple[dict[str, Any], list[Loss]]:
    """Convert the JSON form of one ``obj`` from ``source`` to ``target``.

    Returns the converted JSON and the losses of this conversion. The input is not validated
    here (see :func:`to_head`), and it is never modified.
    """
    context = ctx if ctx is not None else Context()
    start = len(context.losses)
    result = data
    for hop in _hops(_version(source), _version(target)):
        fn = _STEPS[hop].get(obj)
        if fn is not None:
            result = fn(result, context, "")
    if result is data:
        result = dict(data)
    return result, context.losses[start:]


def to_head(
    obj: OcpiModel | dict[str, Any],
    version: Version | str,
    name: str | None = None,
    ctx: Context | None = None,
) -> tuple[OcpiModel, list[Loss]]:
    """Convert ``obj`` (a model of ``version``, or its JSON form) to the head model."""
    return _convert_model(obj, _version(version), HEAD, name, ctx)


def from_head(
    obj: OcpiModel | dict[str, Any],
    version: Version | str,
    name: str | None = None,
    ctx: Context | None = None,
) -> tuple[OcpiModel, list[Loss]]:
    """Convert a head object to the model of ``version``."""
    return _convert_model(obj, HEAD, _version(version), name, ctx)


def _convert_model(
    obj: OcpiModel | dict[str, Any],
    source: Version,
    target: Version,
    name: str | None,
    ctx: Context | None,
) -> tuple[OcpiModel, list[Loss]]:
    if name is None:
        if not isinstance(obj, OcpiModel):
            raise TypeError("name is required when converting a dict")
        name = type(obj).__name__
    if isinstance(obj, OcpiModel):
        data = obj.dump()
    else:
        data = model_for(source, name).model_validate(obj).dump()
    converted, losses = convert(data, name, source, target, ctx)
    if name not in OBJECTS[target.text]:
        raise KeyError(f"no object {name!r} in OCPI {target}")
    return model_for(target, name).model_validate(converted), losses
