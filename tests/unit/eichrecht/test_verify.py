from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ocpikit.eichrecht import (
    Status,
    verify_cdr,
    verify_input,
    verify_ocmf,
    verify_record,
    verify_signed_data,
)
from ocpikit.eichrecht.parse import parse_ocmf

Signer = Callable[..., tuple[str, str]]

BEGIN = {
    "TM": "2024-05-01T10:00:00,000+0200 S",
    "TX": "B",
    "RV": 1000.5,
    "RI": "1-b:1.8.0",
    "RU": "kWh",
    "ST": "G",
}
END = {
    "TM": "2024-05-01T11:00:00,000+0200 S",
    "TX": "E",
    "RV": 1012.25,
    "RI": "1-b:1.8.0",
    "RU": "kWh",
    "ST": "G",
}


def payload(readings: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    body: dict[str, Any] = {
        "FV": "1.0",
        "GI": "TEST GW",
        "GS": "GW1",
        "GV": "1.0",
        "PG": "T1",
        "MV": "ACME",
        "MM": "M1",
        "MS": "METER-1",
        "IS": True,
        "IL": "VERIFIED",
        "IF": ["RFID_PLAIN"],
        "IT": "ISO14443",
        "ID": "04AABBCC",
        "RD": readings if readings is not None else [BEGIN, END],
    }
    body.update(fields)
    return json.dumps(body, separators=(",", ":"))


def test_valid_record_and_energy(sign: Signer) -> None:
    ocmf, key = sign(payload())
    report = verify_ocmf(ocmf, key)
    assert report.status is Status.VALID
    assert report.energy is not None and report.energy.signed_kwh == Decimal("11.75")


def test_tampered_payload_fails(sign: Signer) -> None:
    ocmf, key = sign(payload())
    report = verify_ocmf(ocmf.replace("1012.25", "1013.25"), key)
    assert report.status is Status.INVALID_SIGNATURE
    assert report.exit_code == 1


def test_reserialised_payload_fails(sign: Signer) -> None:
    """The signature covers the bytes as sent; the same JSON with other spacing is different."""
    ocmf, key = sign(payload())
    assert verify_ocmf(ocmf.replace('"GI":', '"GI" :'), key).status is Status.INVALID_SIGNATURE


def test_tampered_signature_fails(sign: Signer) -> None:
    ocmf, key = sign(payload())
    head, sig = ocmf.rsplit("|", 1)
    data = json.loads(sig)
    sd = data["SD"]
    data["SD"] = sd[:-2] + ("00" if sd[-2:] != "00" else "01")
    assert verify_ocmf(f"{head}|{json.dumps(data)}", key).status is Status.INVALID_SIGNATURE


def test_wrong_key_fails(sign: Signer) -> None:
    ocmf, _ = sign(payload())
    _, other_key = sign(payload())
    assert verify_ocmf(ocmf, other_key).status is Status.INVALID_SIGNATURE


def test_key_on_other_curve_is_a_key_mismatch(sign: Signer) -> None:
    ocmf, _ = sign(payload())
    _, k1_key = sign(payload(), ec.SECP256K1())
    report = verify_ocmf(ocmf, k1_key)
    assert report.status is Status.KEY_MISMATCH
    assert report.exit_code == 1


def test_brainpool_p384_and_raw_point_and_base64_key(sign: Signer) -> None:
    ocmf, key = sign(payload(), ec.BrainpoolP384R1())
    assert verify_ocmf(ocmf, key).status is Status.VALID
    point = serialization.load_der_public_key(bytes.fromhex(key))
    assert isinstance(point, ec.EllipticCurvePublicKey)
    raw = point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert verify_ocmf(ocmf, raw.hex()).status is Status.VALID
    assert verify_ocmf(ocmf, raw[1:].hex()).status is Status.VALID  # bare X||Y
    compressed = point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert verify_ocmf(ocmf, compressed.hex()).status is Status.VALID
    assert verify_ocmf(ocmf, base64.b64encode(bytes.fromhex(key)).decode()).status is Status.VALID


def test_missing_sa_defaults_to_p256(sign: Signer) -> None:
    ocmf, key = sign(payload())
    head, sig = ocmf.rsplit("|", 1)
    data = json.loads(sig)
    del data["SA"]
    assert verify_ocmf(f"{head}|{json.dumps(data)}", key).status is Status.VALID


def test_unsupported_curve_is_explicit(sign: Signer) -> None:
    ocmf, key = sign(payload(), sa="ECDSA-secp224k1-SHA256")
    report = verify_ocmf(ocmf, key)
    assert report.status is Status.UNSUPPORTED_CURVE
    assert report.exit_code == 2
    assert "secp224k1" in report.message
    ocmf, key = sign(payload(), sa="RSA-PSS-SHA256")
    assert verify_ocmf(ocmf, key).status is Status.UNSUPPORTED_CURVE


def test_secp192k1_without_builtin_is_unsupported(data_dir: Path) -> None:
    sample = json.loads((data_dir / "ocmf-samples" / "road-labs__basic_secp192k1.json").read_text())
    record = parse_ocmf(sample["assembled_ocmf"])
    key = sample["public_key_spki_hex"]
    assert verify_record(record, key).status is Status.VALID
    refused = verify_record(record, key, allow_builtin=False)
    assert refused.status is Status.UNSUPPORTED_CURVE
    assert "cryptography" in refused.message


def test_no_key_and_bad_key(sign: Signer) -> None:
    ocmf, _ = sign(payload())
    assert verify_ocmf(ocmf, None).status is Status.NO_PUBLIC_KEY
    assert verify_ocmf(ocmf, "zz not a key").status is Status.BAD_PUBLIC_KEY
    assert verify_ocmf(ocmf, "04" + "11" * 64).status is Status.BAD_PUBLIC_KEY  # not on the curve


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("OCMF|{}", "signature"),
        ("XYZ|{}|{}", "header"),
        ('OCMF|{"RD":[]}|{"SA":"ECDSA-secp256r1-SHA256"}', "signature.SD"),
        ('OCMF|{"RD":[{"RV":"abc"}]}|{"SD":"00"}', "RD[0].RV"),
        ('OCMF|{"RD":[],"RD":[]}|{"SD":"00"}', "payload"),
        ('OCMF|{"FV":"1.0"}|{"SD":"00"}', "RD"),
        ("OCMF|{nope}|{}", "payload"),
    ],
)
def test_malformed_ocmf_names_the_part(text: str, path: str) -> None:
    report = verify_ocmf(text, "00")
    assert report.status is Status.MALFORMED
    assert path in report.message


def test_tolerant_types_are_recorded() -> None:
    record = parse_ocmf('OCMF|{"FV":1.0,"RD":[{"TX":"B","RV":" 3.988","RU":"kWh"}]}|{"SD":"00"}')
    assert record.payload.FV == "1.0"
    assert Decimal("3.988") == record.payload.RD[0].RV
    assert len(record.warnings) == 2


def test_time_and_tx_carry_forward() -> None:
    record = parse_ocmf(
        'OCMF|{"RD":[{"TM":"2021-10-06T13:13:56,000+0200 R","TX":"B","RV":1,"RI":"1-0:1.8.0","RU":"kWh"},'
        '{"RV":2,"RI":"1-0:2.8.0","RU":"kWh"}]}|{"SD":"00"}'
    )
    first, second = record.payload.RD
    assert second.tx == "B" and second.time == first.time and second.TX is None
    assert first.time is not None and first.time.utcoffset() is not None
    assert first.time_status == "R"


# --- OCPI inputs ---------------------------------------------------------------------------


def _signed_data(*, b64: bool = False) -> tuple[dict[str, object], str]:
    # both records signed by one key
    key = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import hashes

    def signed(text: str) -> str:
        der = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        ocmf = f'OCMF|{text}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{der.hex()}"}}'
        return base64.b64encode(ocmf.encode()).decode() if b64 else ocmf

    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    data = {
        "encoding_method": "OCMF",
        "encoding_method_version": 1,
        "public_key": base64.b64encode(spki).decode(),
        "signed_values": [
            {"nature": "Start", "plain_data": "", "signed_data": signed(payload([BEGIN], PG="T1"))},
            {"nature": "End", "plain_data": "", "signed_data": signed(payload([END], PG="T2"))},
        ],
    }
    return data, spki.hex()


@pytest.mark.parametrize("b64", [False, True])
def test_signed_data_plain_or_base64(sign: Signer, b64: bool) -> None:
    data, _ = _signed_data(b64=b64)
    report = verify_signed_data(data)
    assert report.status is Status.VALID
    assert [r.label for r in report.records] == [
        "signed_values[0] (Start)",
        "signed_values[1] (End)",
    ]
    assert report.energy is not None and report.energy.signed_kwh == Decimal("11.75")


@pytest.mark.parametrize(
    ("total", "status"),
    [
        ("11.75", Status.VALID),
        ("11.7505", Status.VALID),  # within 1 Wh
        ("11.8", Status.ENERGY_MISMATCH),
        ("0", Status.ENERGY_MISMATCH),
    ],
)
def test_cdr_energy_matching(sign: Signer, total: str, status: Status) -> None:
    data, _ = _signed_data()
    cdr = {"id": "CDR1", "total_energy": Decimal(total), "signed_data": data}
    report = verify_cdr(cdr)
    assert report.status is status, report.message
    assert report.energy is not None and report.energy.cdr_kwh == Decimal(total)


def test_cdr_energy_tolerance_and_wh_units(sign: Signer) -> None:
    begin = {**BEGIN, "RV": 7753, "RU": "Wh"}
    end = {**END, "RV": 8854, "RU": "Wh"}
    ocmf, key = sign(payload([begin, end]))
    cdr = {
        "total_energy": 1.099,
        "signed_data": {
            "encoding_method": "OCMF",
            "public_key": key,
            "signed_values": [{"nature": "End", "plain_data": "", "signed_data": ocmf}],
        },
    }
    assert verify_cdr(cdr).status is Status.ENERGY_MISMATCH  # 1.101 vs 1.099: 2 Wh apart
    assert verify_cdr(cdr, tolerance_kwh=Decimal("0.005")).status is Status.VALID


def test_cdr_json_envelope_and_override_key(sign: Signer) -> None:
    data, spki_hex = _signed_data()
    data["public_key"] = "not a key"
    cdr = {"id": "CDR1", "total_energy": 11.75, "signed_data": data}
    envelope = json.dumps({"data": cdr, "status_code": 1000, "timestamp": "2024-05-01T12:00:00Z"})
    assert verify_input(envelope).status is Status.BAD_PUBLIC_KEY
    assert verify_input(envelope, spki_hex).status is Status.VALID


def test_end_below_begin_is_inconsistent(sign: Signer) -> None:
    ocmf, key = sign(payload([{**BEGIN, "RV": 20}, {**END, "RV": 10}]))
    report = verify_ocmf(ocmf, key)
    assert report.status is Status.READINGS_INCONSISTENT
    assert report.exit_code == 1


def test_cdr_without_signed_data_is_unverifiable() -> None:
    report = verify_cdr({"id": "X", "total_energy": 1})
    assert report.status is Status.MALFORMED and report.exit_code == 2
    assert "signed_data" in report.message


@pytest.mark.parametrize(
    ("method", "value", "name"),
    [
        ("Alfen Eichrecht", "AP;0;3;ALCV3ABBBISHMA2RYEGAZE3HV5YQBQRQ", "Alfen Eichrecht"),
        ("EDL40 E-Mobility Extension", "1B1B1B1B01010101", "EDL40 E-Mobility Extension"),
        ("EDL40 Mennekes", "1B1B1B1B", "EDL40 Mennekes"),
        (
            "OCMF",
            "<values><value><signedData>OCMF|{}|{}</signedData></value></values>",
            "OCMF inside a XML wrapper",
        ),
        ("OCMF", json.dumps({"ocmf": "OCMF|{}|{}"}), "OCMF inside a JSON wrapper"),
    ],
)
def test_other_formats_are_named_as_unsupported(method: str, value: str, name: str) -> None:
    data = {
        "encoding_method": method,
        "signed_values": [{"nature": "End", "plain_data": "", "signed_data": value}],
    }
    report = verify_signed_data(data)
    assert report.status is Status.UNSUPPORTED_FORMAT
    assert report.format_name == name
    assert name in report.message
    assert report.exit_code == 2


def test_bare_alfen_string_is_unsupported() -> None:
    report = verify_input(
        "AP;0;3;ALCV3ABBBISHMA2RYEGAZE3HV5YQBQRQ;BJHCAVWGCGBZGBQNEOM7CEBZ5E75ADAAAAAAAAA"
    )
    assert report.status is Status.UNSUPPORTED_FORMAT
    assert report.format_name == "Alfen Eichrecht"


def test_bare_xy_key_beginning_with_the_der_sequence_tag() -> None:
    """A bare X||Y whose first byte is 0x30 (one key in 256) is a point, not a broken SPKI;
    real DER that does not parse is still an error."""
    from ocpikit.eichrecht.curves import curve_by_name
    from ocpikit.eichrecht.errors import PublicKeyError
    from ocpikit.eichrecht.keys import load_public_key

    curve = curve_by_name("secp256r1")
    assert curve is not None
    for seed in range(1, 5000):
        point = ec.derive_private_key(seed, ec.SECP256R1()).public_key()
        raw = point.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        if raw[1] == 0x30:
            break
    else:
        raise AssertionError("no key with X beginning 0x30")
    key = load_public_key(raw[1:].hex(), curve)
    assert key.form == "xy" and key.point == raw
    assert key.crypto_key().public_numbers() == point.public_numbers()
    with pytest.raises(PublicKeyError, match="SubjectPublicKeyInfo"):
        load_public_key(raw[1:40].hex(), curve)
