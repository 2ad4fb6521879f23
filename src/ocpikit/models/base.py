"""The base class of every OCPI wire model.

- Unknown fields are kept and dumped back (2.3.0 types: a platform SHALL NOT reject
  undocumented fields; we are equally tolerant for 2.1.1 and 2.2.1, DIGEST §1.10).
- ``exclude_unset`` on dump: what was absent stays absent, what was ``null`` stays ``null``,
  so parse → dump gives back the input (modulo number and timestamp formatting).
- Field names are the JSON keys verbatim; no aliases.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

import orjson
from pydantic import BaseModel, ConfigDict, create_model

from ocpikit.core.types import to_json_number

__all__ = ["OcpiModel"]

_PARTIALS: dict[type[BaseModel], type[BaseModel]] = {}
#: per model: fields replaceable, fields appendable, all fields, has model validators
_IN_PLACE: dict[type[BaseModel], tuple[frozenset[str], frozenset[str], frozenset[str], bool]] = {}
_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _encode_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_json_number(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


class OcpiModel(BaseModel):
    """Base of all OCPI objects and classes."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=False,
        validate_assignment=False,
        ser_json_inf_nan="null",
        protected_namespaces=(),
        use_attribute_docstrings=False,
        regex_engine="rust-regex",
    )

    #: spec object name when it differs from the class name (rare; registry keys use it)
    ocpi_name: ClassVar[str | None] = None

    @classmethod
    def partial_model(cls) -> type[BaseModel]:
        """A model with every field of this one optional and without defaults: the shape of a
        PATCH body (transport_and_format §PATCH). Field types and constraints are kept, so a
        PATCH value is validated exactly like the same value in a full object."""
        partial = _PARTIALS.get(cls)
        if partial is None:
            fields: dict[str, Any] = {}
            for name, info in cls.model_fields.items():
                inner: Any = info.annotation
                if info.metadata:
                    inner = Annotated[(inner, *info.metadata)]
                fields[name] = (inner | None, None)
            partial = create_model(
                f"{cls.__name__}Patch",
                __config__=ConfigDict(extra="allow", regex_engine="rust-regex"),
                **fields,
            )
            _PARTIALS[cls] = partial
        return partial

    @classmethod
    def patch_in_place(cls, name: str, *, appended: bool = False) -> bool:
        """Whether a value of field ``name`` validated alone (:meth:`parse_patch`) may replace
        the value in a valid object (``appended``: be added to its list) without validating
        the whole object again. No, when the model has model validators (rules across fields)
        or the field has a field validator (it may read other fields); an appended list also
        needs a field without constraints (a length limit holds for the part sent, not for the
        whole). Unknown fields are never validated: always yes."""
        sets = _IN_PLACE.get(cls)
        if sets is None:
            decorators = cls.__pydantic_decorators__
            validated: set[str] = set()
            for dec in decorators.field_validators.values():
                validated.update(dec.info.fields)
            fields = cls.model_fields
            across = bool(decorators.model_validators)
            replace = frozenset() if across else frozenset(fields.keys() - validated)
            extend = frozenset(n for n in replace if not fields[n].metadata)
            sets = _IN_PLACE[cls] = (replace, extend, frozenset(fields), across)
        replace, extend, known, across = sets
        if name not in known:
            return not across
        return name in (extend if appended else replace)

    @classmethod
    def parse_patch(cls, data: bytes | str | dict[str, Any]) -> dict[str, Any]:
        """Validate a PATCH body against this object's field types; return its JSON form with
        exactly the fields that were sent."""
        model = cls.partial_model()
        if isinstance(data, (bytes, str)):
            instance = model.model_validate_json(data)
        else:
            # the compiled validator and serializer called directly: what model_validate and
            # model_dump call, without their Python wrappers
            instance = model.__pydantic_validator__.validate_python(data)
        result: dict[str, Any] = model.__pydantic_serializer__.to_python(
            instance, mode="json", exclude_unset=True
        )
        return result

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Self:
        """Validate JSON text or an already-decoded JSON object."""
        if isinstance(data, (bytes, str)):
            return cls.model_validate_json(data)
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        """The JSON-ready dict of this object (only fields that were set): ``model_dump(mode=
        "json", exclude_unset=True)``, by the compiled serializer directly (without its Python
        wrapper)."""
        result: dict[str, Any] = self.__pydantic_serializer__.to_python(
            self, mode="json", exclude_unset=True
        )
        return result

    def dump_json(self) -> bytes:
        """Wire bytes of this object (only fields that were set).

        The hot path of every push and page: pydantic builds Python values in its compiled core
        and orjson encodes them (enums and datetimes natively, ``Z`` for UTC); only Decimals go
        through a Python callback. About 2× faster than ``model_dump_json`` (bench/bench_models.py).
        """
        return orjson.dumps(
            self.model_dump(exclude_unset=True), default=_encode_default, option=_ORJSON_OPTIONS
        )

    def dump_obj(self) -> Any:
        return orjson.loads(self.dump_json())
