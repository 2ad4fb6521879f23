"""Eichrecht: verify OCMF signed meter values carried in OCPI CDRs (see docs/eichrecht.md).

Pure: stdlib and ``cryptography`` only. Typical use::

    from ocpikit.eichrecht import verify_cdr
    report = verify_cdr(cdr_dict)
    report.status        # Status.VALID, Status.INVALID_SIGNATURE, Status.UNSUPPORTED_FORMAT, ...
    report.energy        # signed begin/end readings and the comparison with total_energy
"""

from ocpikit.eichrecht.curves import CURVES, Curve, parse_algorithm
from ocpikit.eichrecht.errors import (
    OcmfError,
    OcmfSyntaxError,
    PublicKeyError,
    UnsupportedCurveError,
    UnsupportedFormatError,
)
from ocpikit.eichrecht.keys import PublicKey, load_public_key
from ocpikit.eichrecht.model import OcmfRecord, Payload, Reading, Signature
from ocpikit.eichrecht.parse import parse_ocmf
from ocpikit.eichrecht.readings import DEFAULT_TOLERANCE_KWH, check_energy
from ocpikit.eichrecht.result import EnergyCheck, RecordResult, Report, Status, Transaction
from ocpikit.eichrecht.sources import read_source
from ocpikit.eichrecht.verify import (
    verify_cdr,
    verify_input,
    verify_ocmf,
    verify_record,
    verify_signed_data,
    verify_source,
)

__all__ = [
    "CURVES",
    "DEFAULT_TOLERANCE_KWH",
    "Curve",
    "EnergyCheck",
    "OcmfError",
    "OcmfRecord",
    "OcmfSyntaxError",
    "Payload",
    "PublicKey",
    "PublicKeyError",
    "Reading",
    "RecordResult",
    "Report",
    "Signature",
    "Status",
    "Transaction",
    "UnsupportedCurveError",
    "UnsupportedFormatError",
    "check_energy",
    "load_public_key",
    "parse_algorithm",
    "parse_ocmf",
    "read_source",
    "verify_cdr",
    "verify_input",
    "verify_ocmf",
    "verify_record",
    "verify_signed_data",
    "verify_source",
]
