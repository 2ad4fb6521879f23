"""Code and unit conversions from OCPI 2.3.0 to DATEX II 3 (Energy Infrastructure).

Every conversion here is total on its input domain and says so when it cannot convert: a
function returns ``None`` for an OCPI value with no DATEX II counterpart, never a guessed one.
The tables are documented one by one in ``docs/afir.md`` ("Code conversions").

Units: OCPI powers are in W (``max_electric_power``), DATEX II ``Watt`` also in W (DATEX II 3
EnergyInfrastructure ``maxPowerAtSocket``, ``availableChargingPower``); OCPI ``TIME`` and
``PARKING_TIME`` prices are per hour (OCPI 2.3.0 mod_tariffs §TariffDimensionType), DATEX II
``pricePerMinute`` per minute; OCPI country codes are ISO 3166-1 alpha-3, DATEX II alpha-2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ALPHA3_TO_ALPHA2",
    "AUTH_METHODS",
    "PAYMENT_BRANDS",
    "PAYMENT_MEANS",
    "SMART_SERVICES",
    "connector_format",
    "connector_type",
    "country_alpha2",
    "current_type",
    "enum_value",
    "evse_status",
    "power_watts",
]

#: ISO 3166-1 alpha-3 → alpha-2 for the EU/EEA members and their neighbours (AFIR's scope).
#: A country outside this table is reported as not convertible, never guessed.
ALPHA3_TO_ALPHA2: dict[str, str] = {
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "HRV": "HR", "CYP": "CY", "CZE": "CZ", "DNK": "DK",
    "EST": "EE", "FIN": "FI", "FRA": "FR", "DEU": "DE", "GRC": "GR", "HUN": "HU", "IRL": "IE",
    "ITA": "IT", "LVA": "LV", "LTU": "LT", "LUX": "LU", "MLT": "MT", "NLD": "NL", "POL": "PL",
    "PRT": "PT", "ROU": "RO", "SVK": "SK", "SVN": "SI", "ESP": "ES", "SWE": "SE", "ISL": "IS",
    "LIE": "LI", "NOR": "NO", "CHE": "CH", "GBR": "GB", "AND": "AD", "MCO": "MC", "SMR": "SM",
    "VAT": "VA", "ALB": "AL", "BIH": "BA", "MNE": "ME", "MKD": "MK", "SRB": "RS", "TUR": "TR",
    "UKR": "UA", "MDA": "MD", "XKX": "XK",
}  # fmt: skip

_CONNECTORS: dict[str, str] = {
    "CHADEMO": "chademo",
    "IEC_62196_T1": "iec62196T1",
    "IEC_62196_T1_COMBO": "iec62196T1COMBO",
    "IEC_62196_T2": "iec62196T2",
    "IEC_62196_T2_COMBO": "iec62196T2COMBO",
    "IEC_62196_T3A": "iec62196T3A",
    "IEC_62196_T3C": "iec62196T3C",
    "IEC_60309_2_single_16": "iec60309x2single16",
    "IEC_60309_2_three_16": "iec60309x2three16",
    "IEC_60309_2_three_32": "iec60309x2three32",
    "IEC_60309_2_three_64": "iec60309x2three64",
    "TESLA_R": "teslaR",
    "TESLA_S": "teslaS",
    "PANTOGRAPH_BOTTOM_UP": "pantographBottomUp",
    "PANTOGRAPH_TOP_DOWN": "pantographTopDown",
    **{f"DOMESTIC_{c}": f"domestic{c}" for c in "ABCDEFGHIJKLMNO"},
}

_STATUS: dict[str, str] = {
    "AVAILABLE": "available",
    "BLOCKED": "blocked",
    "CHARGING": "charging",
    "INOPERATIVE": "inoperative",
    "OUTOFORDER": "outOfOrder",
    "PLANNED": "planned",
    "REMOVED": "removed",
    "RESERVED": "reserved",
    "UNKNOWN": "unknown",
}


def country_alpha2(alpha3: str) -> str | None:
    """ISO 3166-1 alpha-2 of an OCPI ``country`` (alpha-3), or None when unknown."""
    return ALPHA3_TO_ALPHA2.get(alpha3.upper())


def connector_type(standard: str) -> str:
    """DATEX II ``ConnectorTypeEnum`` of an OCPI ``ConnectorType``; ``other`` when DATEX II has
    no value of its own (GB/T, MCS, NEMA, ...: the OCPI value is kept beside it)."""
    return _CONNECTORS.get(standard, "other")


def connector_format(fmt: str, power_type: str) -> str:
    """DATEX II ``ConnectorFormatTypeEnum``: SOCKET → socket; CABLE → cableMode3 on AC (IEC
    61851 mode 3 is the AC mode with a fixed cable), otherCable on DC (mode 4 has no value)."""
    if fmt == "SOCKET":
        return "socket"
    return "cableMode3" if power_type.startswith("AC") else "otherCable"


def current_type(power_type: str) -> str:
    """``ac`` for every OCPI AC power type, ``dc`` for DC."""
    return "dc" if power_type == "DC" else "ac"


def evse_status(status: str) -> str:
    """DATEX II ``RefillPointStatusEnum`` of an OCPI EVSE ``Status`` (one to one)."""
    return _STATUS.get(status, "unknown")


def power_watts(connector: Mapping[str, Any]) -> tuple[int, bool]:
    """The connector's maximum power in W and whether it was derived: ``max_electric_power``
    when given, else ``max_voltage × max_amperage`` (× 3 on AC_3_PHASE: OCPI gives the voltage
    between a phase and neutral, mod_locations §Connector)."""
    given = connector.get("max_electric_power")
    if isinstance(given, int):
        return given, False
    phases = 3 if connector.get("power_type") == "AC_3_PHASE" else 1
    return int(connector["max_voltage"]) * int(connector["max_amperage"]) * phases, True


#: DATEX II ``MeansOfPaymentEnum`` (Mobilithek profile 01-00-00); other supplement values are
#: written as ``extendedG`` with the value in ``extendedValueG``.
PAYMENT_MEANS = frozenset(
    {
        "paymentCreditCard", "cashBillsOnly", "cashCoinsOnly", "tollTag", "mobileAccount",
        "cashCoinsAndBills", "prepay", "paymentDebitCard", "paymentValueCard", "nfc", "emv",
        "qrCode", "website", "unknown",
    }
)  # fmt: skip
#: DATEX II ``PaymentBrandsEnum``
PAYMENT_BRANDS = frozenset(
    {
        "americanExpress", "applePay", "cirrus", "dinersClub", "discoverCard", "giroCard",
        "maestro", "masterCard", "visa", "vpay", "other",
    }
)  # fmt: skip
#: DATEX II ``SmartRechargingServicesEnum``
SMART_SERVICES = frozenset(
    {"remoteMonitoring", "powerOptimisationByUser", "bidirectionalRecharging", "plugAndCharge"}
)

#: OCPI EVSE ``Capability`` → DATEX II ``AuthenticationAndIdentificationEnum``
AUTH_METHODS: dict[str, str] = {
    "RFID_READER": "rfid",
    "CREDIT_CARD_PAYABLE": "creditCard",
    "DEBIT_CARD_PAYABLE": "debitCard",
    "CONTACTLESS_CARD_SUPPORT": "nfc",
    "PED_TERMINAL": "pinpad",
    "REMOTE_START_STOP_CAPABLE": "apps",
}


def enum_value(value: str, known: frozenset[str]) -> dict[str, str]:
    """A DATEX II JSON enum wrapper: ``{"value": v}``, or ``extendedG`` for a value the enum
    lacks (the value itself kept in ``extendedValueG``)."""
    if value in known:
        return {"value": value}
    return {"value": "extendedG", "extendedValueG": value}
