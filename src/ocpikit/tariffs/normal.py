"""The engine's internal, normalised view of tariffs and sessions, with adapters.

The engine never walks wire objects directly: it reads a :class:`NTariff` (elements with
restrictions pre-parsed into numbers) and a :class:`NSession` (periods with start, end and
dimension volumes). Adapters build them from

- head models (``ocpikit.models.v2_3_0`` Tariff / CDR / Session), the normal input, and
- their JSON form, read tolerantly: besides the head keys they understand the few keys older
  versions name differently (2.1.1 ``stop_date_time`` / ``start_datetime`` / ``end_datetime``,
  2.1.1 numeric ``total_cost``, 2.2.1 ``excl_vat``/``incl_vat`` Prices). This is what lets a
  partner's CDR that does not validate (the tandemdrive vectors are deliberately minimal) still
  be priced, with the caller told so.

Versions other than head reach the engine through ``ocpikit.convert.to_head`` in the CLI layer;
this package imports only ``ocpikit.core`` and ``ocpikit.models``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeAlias, cast

from pydantic import BaseModel

from ocpikit.core.types import parse_datetime
from ocpikit.tariffs.errors import PricingInputError

__all__ = [
    "DAY_INDEX",
    "JsonObject",
    "NComponent",
    "NElement",
    "NPeriod",
    "NRestrictions",
    "NSession",
    "NTariff",
    "PricingInputError",
    "SessionInput",
    "SplitInfo",
    "TariffInput",
    "TariffsInput",
    "WireObject",
    "normalise_session",
    "normalise_tariff",
    "normalise_tariffs",
    "to_decimal",
]

DAY_INDEX = {
    "MONDAY": 0,
    "TUESDAY": 1,
    "WEDNESDAY": 2,
    "THURSDAY": 3,
    "FRIDAY": 4,
    "SATURDAY": 5,
    "SUNDAY": 6,
}
_ZERO = Decimal(0)
_HOUR = Decimal(3600)


#: the declared fields of each model class (pydantic raises, slowly, on a missing attribute)
_FIELDS: dict[type, frozenset[str] | None] = {}


def _getter(obj: Any) -> Callable[[str], Any]:
    """``_g`` bound to ``obj``; for a pydantic model, reading its field values directly (the
    top-level fields of a session are read a score of times per pricing)."""
    if isinstance(obj, dict):
        return obj.get
    cls = type(obj)
    try:
        names = _FIELDS[cls]
    except KeyError:
        declared = getattr(cls, "model_fields", None)
        names = _FIELDS[cls] = frozenset(declared) if isinstance(declared, dict) else None
    values = getattr(obj, "__dict__", None)
    if names is None or values is None:
        return partial(_g, obj)
    extra = getattr(obj, "__pydantic_extra__", None) or {}

    def get(key: str) -> Any:
        return values.get(key) if key in names else extra.get(key)

    return get


def _g(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    cls = type(obj)
    try:
        names = _FIELDS[cls]
    except KeyError:
        declared = getattr(cls, "model_fields", None)
        names = _FIELDS[cls] = frozenset(declared) if isinstance(declared, dict) else None
    if names is not None and key not in names:
        extra = getattr(obj, "__pydantic_extra__", None)
        return extra.get(key) if extra else None
    return getattr(obj, key, None)


def to_decimal(value: object, where: str = "") -> Decimal | None:
    """A JSON/model number as Decimal (floats via their shortest repr; numeric strings, a 2.1.1
    example erratum, accepted)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise PricingInputError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            raise PricingInputError(f"{where}: expected a number, got {value!r}") from None
    raise PricingInputError(f"{where}: expected a number, got {type(value).__name__}")


def _dt(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            raise PricingInputError(f"{where}: not a DateTime: {value!r}") from None
    raise PricingInputError(f"{where}: not a DateTime: {value!r}")


def _str(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return str(getattr(value, "value", value))


def _minutes(value: Any, where: str) -> int | None:
    text = _str(value)
    if text is None:
        return None
    try:
        hh, mm = text.strip().split(":")
        return int(hh) * 60 + int(mm)
    except ValueError:
        raise PricingInputError(f"{where}: not a time of day hh:mm: {text!r}") from None


def _date(value: Any, where: str) -> date | None:
    text = _str(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PricingInputError(f"{where}: not a date YYYY-MM-DD: {text!r}") from None


@dataclass(frozen=True, slots=True)
class NComponent:
    """A PriceComponent (mod_tariffs §PriceComponent)."""

    index: int
    type: str
    price: Decimal
    vat: Decimal | None
    step_size: int


@dataclass(frozen=True, slots=True)
class NRestrictions:
    """TariffRestrictions (mod_tariffs §TariffRestrictions) as numbers: times in minutes of the
    day, days of week as 0=Monday."""

    start_time: int | None = None
    end_time: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[int] | None = None
    reservation: str | None = None

    @property
    def empty(self) -> bool:
        # normalisation returns the shared instance for "no restrictions": identity suffices
        return self is _NO_RESTRICTIONS


_NO_RESTRICTIONS = NRestrictions()


@dataclass(frozen=True, slots=True)
class NElement:
    """A TariffElement; ``by_type`` holds its first component of each dimension."""

    index: int
    components: tuple[NComponent, ...]
    restrictions: NRestrictions
    by_type: dict[str, NComponent]

    @property
    def parking_only(self) -> bool:
        """All non-FLAT components are PARKING_TIME (DIGEST §4.5: its FLAT is parking cost)."""
        others = [c.type for c in self.components if c.type != "FLAT"]
        return bool(others) and all(t == "PARKING_TIME" for t in others)


@dataclass(frozen=True, slots=True)
class SplitInfo:
    """Where restrictions of a group of elements can switch inside a period (engine splitting).

    ``clock_exclusive[wd]`` / ``clock_inclusive[wd]``: the minutes of a local day with weekday
    ``wd`` (0 = Monday) at which a start_time/end_time can switch (end_time read exclusive or
    inclusive), plus 0 (midnight) when a day_of_week or date restriction exists. A window of an
    element restricted to other days is left out (it can switch neither on that day nor, for a
    window wrapping past midnight, on the day after). ``durations``: min/max_duration seconds;
    ``kwh``: min/max_kwh values.
    """

    durations: tuple[int, ...]
    kwh: tuple[Decimal, ...]
    clock_exclusive: tuple[tuple[int, ...], ...]
    clock_inclusive: tuple[tuple[int, ...], ...]
    #: any time-of-day / day / date boundary at all
    has_clock: bool = True

    def clock(self, weekday: int, inclusive_end: bool) -> tuple[int, ...]:
        return (self.clock_inclusive if inclusive_end else self.clock_exclusive)[weekday]


def split_info(
    elements: tuple[NElement, ...], dims: frozenset[str] | None = None
) -> SplitInfo | None:
    """The :class:`SplitInfo` of ``elements`` (only those pricing one of ``dims`` when given);
    ``None`` when nothing in them can switch inside a period (no time, day, date, duration or
    kWh restriction). Local midnight counts only where it changes something: a date
    restriction, or a day_of_week set holding one of the two days but not the other."""
    excl: list[set[int]] = [set() for _ in range(7)]
    incl: list[set[int]] = [set() for _ in range(7)]
    midnight = [False] * 7  # midnight[wd]: the midnight that ends weekday wd matters
    durations: set[int] = set()
    kwh: set[Decimal] = set()
    for el in elements:
        r = el.restrictions
        if r.empty:
            continue
        if dims is not None and not any(d in el.by_type for d in dims):
            continue
        if r.start_time is not None or r.end_time is not None:
            s = (r.start_time if r.start_time is not None else 0) % 1440
            e = (r.end_time if r.end_time is not None else 0) % 1440
            days = r.day_of_week
            for wd in range(7):
                if days is None or wd in days or (wd - 1) % 7 in days:
                    excl[wd].update((s, e))
                    incl[wd].update((s, (e + 1) % 1440))
        if r.start_date is not None or r.end_date is not None:
            midnight = [True] * 7
        elif r.day_of_week is not None:
            for wd in range(7):
                if (wd in r.day_of_week) != ((wd + 1) % 7 in r.day_of_week):
                    midnight[wd] = True
        for d in (r.min_duration, r.max_duration):
            if d is not None:
                durations.add(d)
        for k in (r.min_kwh, r.max_kwh):
            if k is not None:
                kwh.add(k)
    for wd in range(7):
        if midnight[(wd - 1) % 7]:  # minute 0 of weekday wd is the midnight ending wd - 1
            excl[wd].add(0)
            incl[wd].add(0)
    if not (any(excl) or durations or kwh):
        return None
    return SplitInfo(
        tuple(sorted(durations)),
        tuple(sorted(kwh)),
        tuple(tuple(sorted(d)) for d in excl),
        tuple(tuple(sorted(d)) for d in incl),
        any(excl) or any(incl),
    )


@dataclass(slots=True)
class NTariff:
    """A Tariff. ``tax_included`` is ``None`` for tariffs from 2.1.1/2.2.1 (prices excl. VAT);
    ``origin`` is the OCPI version it came from, when known."""

    id: str
    currency: str
    elements: tuple[NElement, ...]
    tax_included: str | None = None
    min_excl: Decimal | None = None
    min_incl: Decimal | None = None
    max_excl: Decimal | None = None
    max_incl: Decimal | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    type: str | None = None
    origin: str | None = None
    #: elements for charging periods, reservation periods and expired reservations (§4.2)
    charging: tuple[NElement, ...] = ()
    reservation: tuple[NElement, ...] = ()
    expired: tuple[NElement, ...] = ()
    #: whether any element restricts current or power (the engine then reads those dimensions)
    measures: bool = False
    #: where the restrictions of each group can switch inside a period (None: nowhere)
    split_charging: SplitInfo | None = None
    split_reservation: SplitInfo | None = None
    split_expired: SplitInfo | None = None
    _split_cache: dict[tuple[str, frozenset[str] | None], SplitInfo | None] = field(
        default_factory=dict
    )
    #: whether any element restricts current / power (the engine reads only what is compared)
    measures_current: bool = False
    measures_power: bool = False
    #: what the engine derives from the tariff alone (per-dimension candidate elements, ...),
    #: built on first use and reused for every session priced against this tariff
    engine_cache: dict[Hashable, object] = field(default_factory=dict, compare=False, repr=False)

    def split_for(self, group: str, dims: frozenset[str] | None) -> SplitInfo | None:
        """:class:`SplitInfo` of the ``charging``/``reservation``/``expired`` elements that
        price one of ``dims`` (all of them when ``None``), cached."""
        key = (group, dims)
        try:
            return self._split_cache[key]
        except KeyError:
            els = {"charging": self.charging, "reservation": self.reservation}.get(
                group, self.expired
            )
            info = split_info(els, dims)
            if info is not None:  # equal infos share one instance (and its session cuts)
                known = (
                    self.split_charging,
                    self.split_reservation,
                    self.split_expired,
                    *self._split_cache.values(),
                )
                info = next((i for i in known if i == info), info)
            self._split_cache[key] = info
            return info

    def __post_init__(self) -> None:
        els = self.elements
        self.charging = tuple(e for e in els if e.restrictions.reservation is None)
        self.reservation = tuple(e for e in els if e.restrictions.reservation == "RESERVATION")
        self.expired = (
            tuple(e for e in els if e.restrictions.reservation == "RESERVATION_EXPIRES")
            + self.reservation
        )
        self.measures_current = any(
            e.restrictions.min_current is not None or e.restrictions.max_current is not None
            for e in els
        )
        self.measures_power = any(
            e.restrictions.min_power is not None or e.restrictions.max_power is not None
            for e in els
        )
        self.measures = self.measures_current or self.measures_power
        self.split_charging = split_info(self.charging)
        self.split_reservation = split_info(self.reservation)
        self.split_expired = split_info(self.expired)

    def valid_at(self, instant: datetime) -> bool:
        if self.start_date_time is not None and instant < self.start_date_time:
            return False
        return not (self.end_date_time is not None and instant >= self.end_date_time)


def _limit(value: Any) -> tuple[Decimal | None, Decimal | None]:
    if value is None:
        return None, None
    if isinstance(value, (int, float, Decimal, str)):  # 2.1.1-style plain number
        return to_decimal(value, "price limit"), None
    excl = _g(value, "before_taxes")
    if excl is None:
        excl = _g(value, "excl_vat")
    incl = _g(value, "after_taxes")
    if incl is None:
        incl = _g(value, "incl_vat")
    return to_decimal(excl, "price limit"), to_decimal(incl, "price limit")


def _restrictions(r: Any, where: str) -> NRestrictions:
    if r is None:
        return _NO_RESTRICTIONS
    days = _g(r, "day_of_week")
    day_set: frozenset[int] | None = None
    if days:
        try:
            day_set = frozenset(DAY_INDEX[str(_str(d)).upper()] for d in days)
        except KeyError as exc:
            raise PricingInputError(f"{where}.day_of_week: unknown day {exc.args[0]!r}") from None
    md = _g(r, "min_duration")
    xd = _g(r, "max_duration")
    out = NRestrictions(
        start_time=_minutes(_g(r, "start_time"), f"{where}.start_time"),
        end_time=_minutes(_g(r, "end_time"), f"{where}.end_time"),
        start_date=_date(_g(r, "start_date"), f"{where}.start_date"),
        end_date=_date(_g(r, "end_date"), f"{where}.end_date"),
        min_kwh=to_decimal(_g(r, "min_kwh"), f"{where}.min_kwh"),
        max_kwh=to_decimal(_g(r, "max_kwh"), f"{where}.max_kwh"),
        min_current=to_decimal(_g(r, "min_current"), f"{where}.min_current"),
        max_current=to_decimal(_g(r, "max_current"), f"{where}.max_current"),
        min_power=to_decimal(_g(r, "min_power"), f"{where}.min_power"),
        max_power=to_decimal(_g(r, "max_power"), f"{where}.max_power"),
        min_duration=None if md is None else int(md),
        max_duration=None if xd is None else int(xd),
        day_of_week=day_set,
        reservation=_str(_g(r, "reservation")),
    )
    return _NO_RESTRICTIONS if out == _NO_RESTRICTIONS else out


_CACHE: dict[int, tuple[Any, str | None, NTariff]] = {}
_JSON_CACHE: dict[tuple[str, str | None], NTariff] = {}


def normalise_tariff(obj: TariffInput, origin: str | None = None) -> NTariff:
    """An :class:`NTariff` from a head Tariff model or a Tariff dict of any version.

    Normalised tariffs are cached (tariffs are reused across many sessions): models by identity
    (models are not mutated in place here; the cache keeps a reference so the identity stays
    valid), JSON dicts by content.
    """
    if isinstance(obj, NTariff):
        return obj
    if isinstance(obj, dict):
        # JSON tariffs are keyed by content (repr is deterministic for equal dicts built in the
        # same key order), so a mutated dict is never served a stale result
        key = (repr(obj), origin)
        cached = _JSON_CACHE.get(key)
        if cached is None:
            cached = _normalise_tariff(obj, origin)
            if len(_JSON_CACHE) > 256:
                _JSON_CACHE.clear()
            _JSON_CACHE[key] = cached
        return cached
    hit = _CACHE.get(id(obj))
    if hit is not None and hit[0] is obj and hit[1] == origin:
        return hit[2]
    tariff = _normalise_tariff(obj, origin)
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[id(obj)] = (obj, origin, tariff)
    return tariff


def _normalise_tariff(obj: Any, origin: str | None) -> NTariff:
    tid = _str(_g(obj, "id")) or "?"
    where = f"tariff {tid}"
    raw_elements = _g(obj, "elements")
    if not raw_elements:
        raise PricingInputError(f"{where}.elements: a tariff needs at least one element")
    elements: list[NElement] = []
    for i, e in enumerate(raw_elements):
        ewhere = f"{where}.elements[{i}]"
        comps: list[NComponent] = []
        by_type: dict[str, NComponent] = {}
        for j, c in enumerate(_g(e, "price_components") or ()):
            cwhere = f"{ewhere}.price_components[{j}]"
            ctype = (_str(_g(c, "type")) or "").upper()
            price = to_decimal(_g(c, "price"), f"{cwhere}.price")
            if price is None:
                raise PricingInputError(f"{cwhere}.price: missing")
            step = _g(c, "step_size")
            comp = NComponent(
                index=j,
                type=ctype,
                price=price,
                vat=to_decimal(_g(c, "vat"), f"{cwhere}.vat"),
                step_size=int(step) if step is not None else 1,
            )
            comps.append(comp)
            by_type.setdefault(ctype, comp)
        elements.append(
            NElement(
                index=i,
                components=tuple(comps),
                restrictions=_restrictions(_g(e, "restrictions"), f"{ewhere}.restrictions"),
                by_type=by_type,
            )
        )
    tax = _g(obj, "tax_included")
    min_excl, min_incl = _limit(_g(obj, "min_price"))
    max_excl, max_incl = _limit(_g(obj, "max_price"))
    if origin is None and isinstance(obj, dict):
        origin = "2.3.0" if "tax_included" in obj else None
    return NTariff(
        id=tid,
        currency=_str(_g(obj, "currency")) or "",
        elements=tuple(elements),
        tax_included=_str(tax),
        min_excl=min_excl,
        min_incl=min_incl,
        max_excl=max_excl,
        max_incl=max_incl,
        start_date_time=_dt(_g(obj, "start_date_time"), f"{where}.start_date_time"),
        end_date_time=_dt(_g(obj, "end_date_time"), f"{where}.end_date_time"),
        type=_str(_g(obj, "type")),
        origin=origin,
    )


def normalise_tariffs(objs: TariffsInput | None, origin: str | None = None) -> list[NTariff]:
    """One tariff or an iterable of tariffs, normalised."""
    if objs is None:
        return []
    if not isinstance(objs, (list, tuple)):  # one tariff (a dict, a model, an NTariff)
        return [normalise_tariff(cast("TariffInput", objs), origin)]
    return [normalise_tariff(t, origin) for t in objs]


@dataclass(slots=True)
class NPeriod:
    """A ChargingPeriod with its end (the next period's start, or the session end)."""

    index: int
    start: datetime
    end: datetime
    dims: dict[str, Decimal]
    tariff_id: str | None = None

    @property
    def seconds(self) -> Decimal:
        return Decimal((self.end - self.start) // timedelta(microseconds=1)) / 1_000_000


@dataclass(slots=True)
class NSession:
    """A CDR or Session reduced to what pricing and reconciliation read.

    ``declared`` holds the cost fields the object states, as ``(excl, incl)`` (incl ``None`` when
    not stated); ``total_*`` the quantities it states (``None`` when absent).
    """

    kind: str
    id: str | None
    start: datetime
    end: datetime
    periods: list[NPeriod]
    currency: str | None = None
    total_energy: Decimal | None = None
    total_time: Decimal | None = None
    total_parking_time: Decimal | None = None
    time_zone: str | None = None
    tariffs: list[TariffInput] = field(default_factory=list)
    declared: dict[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)
    end_declared: bool = True


#: a wire object in its JSON form (any OCPI version; read tolerantly)
JsonObject: TypeAlias = Mapping[str, object]
#: a wire object as the engine receives it: a head model (``ocpikit.models.v2_3_0``) or JSON
WireObject: TypeAlias = JsonObject | BaseModel
#: what :func:`normalise_session` reads: a CDR or Session, or one already normalised
SessionInput: TypeAlias = NSession | WireObject
#: what :func:`normalise_tariff` reads: a Tariff, or one already normalised
TariffInput: TypeAlias = NTariff | WireObject
#: one tariff or a list of them
TariffsInput: TypeAlias = TariffInput | Sequence[TariffInput]


COST_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def _price(value: Any, where: str) -> tuple[Decimal, Decimal | None] | None:
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal, str)):
        excl = to_decimal(value, where)
        assert excl is not None
        return excl, None
    before = _g(value, "before_taxes")
    if before is not None:
        b = to_decimal(before, f"{where}.before_taxes")
        assert b is not None
        taxes = _g(value, "taxes")
        if taxes is None:
            return b, None
        total = b
        for i, t in enumerate(taxes):
            amount = to_decimal(_g(t, "amount"), f"{where}.taxes[{i}].amount")
            total += amount or _ZERO
        return b, total
    excl = to_decimal(_g(value, "excl_vat"), f"{where}.excl_vat")
    if excl is None:
        return None
    return excl, to_decimal(_g(value, "incl_vat"), f"{where}.incl_vat")


#: enum member -> its value (dimension types of head models)
_ENUM_NAMES: dict[Any, str] = {}


def _enum_name(raw_type: Any) -> str:
    """A dimension type that is not a plain string (an enum member), remembered."""
    dtype = _str(raw_type) or ""
    if raw_type is not None:
        _ENUM_NAMES[raw_type] = dtype
    return dtype


def _volume(raw: Any, i: int, raw_dims: Any, d: Any) -> Decimal | None:
    """A CdrDimension volume that is not a Decimal yet (JSON input); an error names it."""
    if type(raw) is float:
        return Decimal(repr(raw))
    try:
        return to_decimal(raw)
    except PricingInputError:
        j = next(k for k, item in enumerate(raw_dims) if item is d)
        return to_decimal(raw, f"charging_periods[{i}].dimensions[{j}].volume")


def normalise_session(obj: SessionInput) -> NSession:
    """An :class:`NSession` from a head CDR/Session model or a CDR/Session dict of any version."""
    if isinstance(obj, NSession):
        return obj
    g = _getter(obj)
    is_session = g("kwh") is not None or g("status") is not None
    start = _dt(g("start_date_time") or g("start_datetime"), "start_date_time")
    if start is None:
        raise PricingInputError("start_date_time: missing")
    end_raw = g("end_date_time") or g("stop_date_time") or g("end_datetime")
    end = _dt(end_raw, "end_date_time")
    periods_raw = g("charging_periods") or []
    starts: list[datetime] = []
    dims_list: list[dict[str, Decimal]] = []
    tids: list[str | None] = []
    for i, p in enumerate(periods_raw):
        # hot path (pricing throughput): plain dict/attribute access, messages built on error only
        if type(p) is dict:
            raw_ps, raw_dims = p.get("start_date_time"), p.get("dimensions")
            raw_tid = p.get("tariff_id")
        else:
            raw_ps, raw_dims = getattr(p, "start_date_time", None), getattr(p, "dimensions", None)
            raw_tid = getattr(p, "tariff_id", None)
        ps = (
            raw_ps
            if type(raw_ps) is datetime
            else _dt(raw_ps, f"charging_periods[{i}].start_date_time")
        )
        if ps is None:
            raise PricingInputError(f"charging_periods[{i}].start_date_time: missing")
        dims: dict[str, Decimal] = {}
        if raw_dims:
            for d in raw_dims:
                if type(d) is dict:
                    raw_type, vol = d.get("type"), d.get("volume")
                else:
                    raw_type, vol = getattr(d, "type", None), getattr(d, "volume", None)
                if type(raw_type) is str:
                    dtype = raw_type.upper()
                else:
                    dtype = _ENUM_NAMES.get(raw_type) or _enum_name(raw_type)
                if type(vol) is not Decimal:
                    vol = _volume(vol, i, raw_dims, d)
                    if vol is None:
                        continue
                dims[dtype] = dims.get(dtype, _ZERO) + vol
        starts.append(ps)
        dims_list.append(dims)
        tids.append(raw_tid if raw_tid is None or type(raw_tid) is str else _str(raw_tid))
    end_declared = end is not None
    if end is None:
        if starts:
            last = dims_list[-1]
            hours = last.get("TIME", _ZERO) + last.get("PARKING_TIME", _ZERO)
            hours += last.get("RESERVATION_TIME", _ZERO)
            end = starts[-1] + timedelta(seconds=float(hours * _HOUR))
        else:
            end = start
    periods = [
        NPeriod(i, starts[i], starts[i + 1], dims_list[i], tids[i]) for i in range(len(starts) - 1)
    ]
    if starts:
        last_start = starts[-1]
        periods.append(
            NPeriod(len(starts) - 1, last_start, max(end, last_start), dims_list[-1], tids[-1])
        )
    declared: dict[str, tuple[Decimal, Decimal | None]] = {}
    for name in COST_FIELDS:
        value = _price(g(name), name)
        if value is not None:
            declared[name] = value
    location = g("location") or g("cdr_location")
    tz = _str(_g(location, "time_zone")) if location is not None else None
    tariffs = g("tariffs")
    return NSession(
        kind="session" if is_session else "cdr",
        id=_str(g("id")),
        start=start,
        end=end,
        periods=periods,
        currency=_str(g("currency")),
        total_energy=to_decimal(g("kwh") if is_session else g("total_energy"), "total_energy"),
        total_time=to_decimal(g("total_time"), "total_time"),
        total_parking_time=to_decimal(g("total_parking_time"), "total_parking_time"),
        time_zone=tz,
        tariffs=list(tariffs) if tariffs else [],
        declared=declared,
        end_declared=end_declared,
    )
