"""The Bookings module's Receiver at an eMSP (2.3.0 mod_bookings; DIGEST §3.10): the CPO PUTs
its Bookings (``{bookings}/{cc}/{pid}/{booking_id}``) and BookingLocations
(``{bookings}/{cc}/{pid}/booking_locations/{id}``). Bookings exist in 2.3.0 only, the head
version: bodies are sent as stored."""

from __future__ import annotations

from ocpikit.protocol.addressing import join_url
from ocpikit.protocol.ports import ObjectKey

from ..driver import RequestDriver
from .objects import RECEIVER

__all__ = ["BOOKING_KINDS", "BookingsClient"]

MODULE = "bookings"

#: head object name -> the path segments before its id, after {cc}/{pid}
BOOKING_KINDS = {"Booking": (), "BookingLocation": ("booking_locations",)}


class BookingsClient:
    """Bookings pushed to one eMSP."""

    __slots__ = ("driver",)

    def __init__(self, driver: RequestDriver) -> None:
        self.driver = driver

    async def put(self, key: ObjectKey, wire: bytes) -> None:
        """PUT our Booking or BookingLocation ``key`` (head JSON) to the eMSP's Receiver."""
        driver = self.driver
        url = join_url(
            driver.address.endpoint(MODULE, RECEIVER),
            key.country_code,
            key.party_id,
            *BOOKING_KINDS[key.kind],
            key.id,
        )
        await driver.request(
            "PUT",
            url,
            module=MODULE,
            content=wire,
            to_party=driver.address.their_party(MODULE, RECEIVER),
        )
