"""The schemas the AFIR exports are validated against (``tests/data/afir``, see
``tests/data/README.md``): the Mobilithek AFIR profile 01-00-00 JSON Schemas (static table and
status publications), the DATEX II 3.7 XSDs (validated with lxml, libxml2) and JSON Schemas. Each folder's file count is
checked (:func:`tests.testdata.counted`), so a missing schema fails instead of being skipped.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree
from referencing import Registry, Resource

from tests.testdata import DATA, counted

AFIR = DATA / "afir"
MOBILITHEK_TABLE = AFIR / "mobilithek-table"
MOBILITHEK_STATUS = AFIR / "mobilithek-status"
DATEX37_XSD = AFIR / "datex2-3.7"
DATEX37_JSON = AFIR / "datex2-3.7-json"


def _validator(folder: Path, corpus: str, root: str) -> Draft202012Validator:
    files = counted(corpus, sorted(folder.glob("DATEXII_3_*.json")))
    registry: Registry[Any] = Registry().with_resources(
        (p.name, Resource.from_contents(json.loads(p.read_text()))) for p in files
    )
    return Draft202012Validator(json.loads((folder / root).read_text()), registry=registry)


@functools.cache
def mobilithek_table() -> Draft202012Validator:
    return _validator(MOBILITHEK_TABLE, "afir mobilithek table schemas", "DATEXII_3_D2Payload.json")


@functools.cache
def mobilithek_status() -> Draft202012Validator:
    return _validator(
        MOBILITHEK_STATUS, "afir mobilithek status schemas", "DATEXII_3_MessageContainer.json"
    )


@functools.cache
def datex37_json() -> Draft202012Validator:
    return _validator(DATEX37_JSON, "afir datex2 3.7 json schemas", "DATEXII_3_D2Payload.json")


@functools.cache
def datex37_xsd() -> etree.XMLSchema:
    counted("afir datex2 3.7 xsds", DATEX37_XSD.glob("DATEXII_3_*.xsd"))
    return etree.XMLSchema(etree.parse(str(DATEX37_XSD / "DATEXII_3_D2Payload.xsd")))


def json_errors(validator: Draft202012Validator, doc: Any) -> list[str]:
    """Every schema violation of ``doc`` as ``path: message`` (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator.iter_errors(doc)
    ]


def xml_errors(xml: bytes) -> list[str]:
    """Every XSD violation of ``xml`` (libxml2's messages; empty: valid)."""
    schema = datex37_xsd()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
