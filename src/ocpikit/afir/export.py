"""Which static publication a format and profile name: the one entry the CLI (``ocpikit afir
export``) and the platform (``GET /nap/static``) share.

=============  ===========  ==========================================================
format         profile      what
=============  ===========  ==========================================================
datex2-json    mobilithek   Mobilithek AFIR profile 01-00-00 (default for JSON)
datex2-xml     datex2-3.7   plain DATEX II 3.7 XML (default for XML)
datex2-json    datex2-3.7   plain DATEX II 3.7 JSON (:mod:`ocpikit.afir.datex37_json`)
datex2-xml     mobilithek   refused: the profile is published as JSON Schemas only
=============  ===========  ==========================================================
"""

from __future__ import annotations

import orjson

from ocpikit.afir.datex37 import table_publication_xml
from ocpikit.afir.datex37_json import table_publication_37
from ocpikit.afir.mobilithek import Dataset, table_publication

__all__ = ["FORMATS", "PROFILES", "ExportError", "default_profile", "render_static"]

FORMATS = ("datex2-json", "datex2-xml")
PROFILES = ("mobilithek", "datex2-3.7")


class ExportError(ValueError):
    """A format/profile combination that is not offered (the message says which are)."""


def default_profile(fmt: str) -> str:
    return "datex2-3.7" if fmt == "datex2-xml" else "mobilithek"


def render_static(ds: Dataset, fmt: str, profile: str | None = None) -> tuple[bytes, str]:
    """The static publication's bytes and media type."""
    if fmt not in FORMATS:
        raise ExportError(f"format: one of {', '.join(FORMATS)}, not {fmt!r}")
    profile = profile or default_profile(fmt)
    if profile not in PROFILES:
        raise ExportError(f"profile: one of {', '.join(PROFILES)}, not {profile!r}")
    if fmt == "datex2-xml":
        if profile == "mobilithek":
            raise ExportError(
                "profile mobilithek is defined in JSON only: use --format datex2-json, "
                "or --profile datex2-3.7 for XML"
            )
        return table_publication_xml(ds), "application/xml"
    doc = table_publication(ds) if profile == "mobilithek" else table_publication_37(ds)
    return orjson.dumps(doc), "application/json"
