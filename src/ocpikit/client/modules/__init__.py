"""One small client per OCPI module, all over one :class:`~ocpikit.client.driver.RequestDriver`
(DESIGN §1 "client/"; the shape of IZIVIA's ocpi-toolkit clients). Each call converts head
documents to and from the partner's version at the edge."""

from .cdrs import CdrsClient
from .chargingprofiles import ChargingProfilesClient
from .commands import CommandsClient
from .hubclientinfo import HubClientInfoClient
from .invoicereconciliation import InvoiceReconciliationClient
from .locations import LocationsClient
from .objects import ObjectsClient
from .sessions import SessionsClient
from .tariffs import TariffsClient
from .tokens import TokensClient

__all__ = [
    "CdrsClient",
    "ChargingProfilesClient",
    "CommandsClient",
    "HubClientInfoClient",
    "InvoiceReconciliationClient",
    "LocationsClient",
    "ObjectsClient",
    "SessionsClient",
    "TariffsClient",
    "TokensClient",
]
