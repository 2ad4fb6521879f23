"""OCPI 2.1.1 Credentials object (2.1.1 credentials §Credentials object).

2.1.1 is flat: one party per connection (``party_id``/``country_code`` plus its
``business_details``) and no role; the role is implied by the URL the object was exchanged on.
``token`` is never Base64-encoded in the body.
"""

from __future__ import annotations

from ocpikit.core.types import URL, String2, String3, String64
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.locations import BusinessDetails

__all__ = ["OBJECTS", "BusinessDetails", "Credentials"]


class Credentials(OcpiModel):
    """Token and versions URL of one party, with its business details (2.1.1 credentials §4)."""

    token: String64
    url: URL
    business_details: BusinessDetails
    party_id: String3
    country_code: String2


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Credentials": Credentials,
    "BusinessDetails": BusinessDetails,
}
