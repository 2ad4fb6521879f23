"""Every OCMF sample in ``tests/data/ocmf-samples`` gives its source's expected result.

Inputs: road-labs and pyocmf samples carry an OCMF string and a key. The safe-ev samples are
read from their original SAFE XML container (``raw_file``): the ``ocmf`` strings in their JSON
were re-serialised when the samples were made (spaces dropped, ``"RV":"0.0"`` → ``0.0``, SA/SE/SM
added), so they no longer match the bytes the meter signed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.eichrecht import Report, Status, verify_input, verify_ocmf
from tests.testdata import OCMF_SAMPLES, json_index

_IDS = [e["id"] for e in json_index(OCMF_SAMPLES, "ocmf samples")]

#: per-source verdicts for samples whose source asserts none (pyocmf's per-record results,
#: or our reading where pyocmf had no key) - each explained
NOT_ASSERTED: dict[str, Status] = {
    # pyocmf could not check these (no key in the sample JSON); the raw XML has a bare X||Y key
    # and a bare r||s signature, which we read:
    "safe-ev__OCMF-receipt-with_publickey_and_data": Status.VALID,
    # the XML pretty-prints the payload over several lines; the signature matches no variant
    "safe-ev__OCMF-receipt-with_import_and_export": Status.INVALID_SIGNATURE,
    # the XML carries no public key at all
    "safe-ev__signature_16955306_ALL": Status.NO_PUBLIC_KEY,
}


def _sample(shared: Path, sample_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared / "ocmf-samples" / f"{sample_id}.json").read_text())
    return data


def verify_sample(shared: Path, sample: dict[str, Any]) -> Report:
    if "assembled_ocmf" in sample:
        return verify_ocmf(sample["assembled_ocmf"], sample["public_key_spki_hex"])
    if sample.get("raw_file"):
        raw = (shared / "ocmf-samples" / sample["raw_file"]).read_bytes()
        return verify_input(raw.decode("utf-8", errors="replace"))
    record = sample["records"][0]
    return verify_ocmf(record["ocmf"], record["public_key_hex"])


@pytest.mark.parametrize("sample_id", _IDS)
def test_sample_gives_the_source_result(data_dir: Path, sample_id: str) -> None:
    sample = _sample(data_dir, sample_id)
    report = verify_sample(data_dir, sample)
    expected = sample["expected_valid_per_source"]
    if expected is True:
        assert report.status is Status.VALID, report.message
    elif expected is False:
        assert report.status.failed, report.message
        assert report.exit_code == 1
    elif expected is None:
        # second_key_fail_ocmf: the End record names secp256k1 but comes with a P-256 key; the
        # SAFE software refuses it, we say why.
        assert report.status is Status.KEY_MISMATCH
        assert [r.status for r in report.records] == [Status.VALID, Status.KEY_MISMATCH]
    elif sample_id in NOT_ASSERTED:
        assert report.status is NOT_ASSERTED[sample_id], report.message
    else:
        # not asserted by the source: agree with pyocmf record by record
        pyocmf = [r["pyocmf_signature_valid"] for r in sample["records"]]
        ours = [r.status is Status.VALID for r in report.records]
        assert ours == pyocmf
        assert report.status is Status.VALID


def test_all_sample_curves_are_verified_not_skipped(data_dir: Path) -> None:
    """brainpoolP384r1 is in cryptography here; secp192k1 is not and uses the builtin verifier."""
    backends: dict[str, set[str]] = {}
    for sample_id in _IDS:
        report = verify_sample(data_dir, _sample(data_dir, sample_id))
        for r in report.records:
            if r.curve and r.backend:
                backends.setdefault(r.curve, set()).add(r.backend)
    assert backends["brainpoolP384r1"] == {"cryptography"}
    assert backends["secp192k1"] == {"builtin"}
    for curve in ("secp192r1", "secp256k1", "secp256r1", "secp384r1", "brainpoolP256r1"):
        assert backends[curve] == {"cryptography"}


def test_index_is_not_empty(data_dir: Path) -> None:
    assert len(_IDS) >= 50


def test_expected_energy_of_source_examples(data_dir: Path) -> None:
    """The SAFE software shows 1,101 kWh (VW/LEM) and 1,0 kWh (OBIS 98.8.0 example)."""
    vw = verify_sample(data_dir, _sample(data_dir, "safe-ev__VW_OCMF_load"))
    assert vw.energy is not None and str(vw.energy.signed_kwh) == "1.101"
    obis = verify_sample(data_dir, _sample(data_dir, "safe-ev__Ocmf_Example_OBIS_98.8.0_2.8.0"))
    assert obis.energy is not None and obis.energy.signed_kwh == 1


def test_ebee_02_readings_regress(data_dir: Path) -> None:
    report = verify_sample(data_dir, _sample(data_dir, "safe-ev__test_ocmf_ebee_02"))
    assert report.energy is not None
    assert any("below begin" in p for p in report.energy.problems)
