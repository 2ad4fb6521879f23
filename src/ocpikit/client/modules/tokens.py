"""The Tokens module at a partner (OCPI 2.2.1 ``mod_tokens``; DIGEST §3.5): the eMSP's Sender
list and real-time authorization, and the CPO's Receiver for our Tokens (keyed by ``uid`` and
type, the type sent as ``?type=`` from 2.2 on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson

from ocpikit.core.errors import PartnerHttpError, RemoteProtocolError, error_for_status
from ocpikit.core.headers import PartyRef
from ocpikit.protocol.addressing import join_url

from .objects import SENDER, ObjectsClient

__all__ = ["TokensClient"]


class TokensClient(ObjectsClient):
    module = "tokens"

    __slots__ = ()

    async def authorize(
        self,
        token_uid: str,
        *,
        token_type: str | None = None,
        location: Mapping[str, Any] | None = None,
        to_party: PartyRef | None = None,
    ) -> dict[str, Any]:
        """Real-time authorization at the eMSP (``POST {tokens}/{uid}/authorize``, DIGEST §3.5);
        ``to_party``: the eMSP behind a hub (else the partner's sender party).
        ``location`` is a head LocationReferences; returns the head AuthorizationInfo. An unknown
        token raises the partner's :class:`~ocpikit.core.errors.UnknownToken` (2004), also when
        the eMSP answers HTTP 404 without an OCPI envelope."""
        driver = self.driver
        url = join_url(driver.address.endpoint(self.module, SENDER), token_uid, "authorize")
        if token_type:
            url += "?" + urlencode({"type": token_type})
        body: dict[str, Any] | None = None
        if location is not None:
            body = driver.objects.down(dict(location), "LocationReferences", with_context=False)
        try:
            reply = await driver.request(
                "POST",
                url,
                module=self.module,
                content=orjson.dumps(body) if body is not None else b"",
                to_party=to_party or driver.address.their_party(self.module, SENDER),
                object_id=token_uid,
            )
        except PartnerHttpError as exc:
            # "When the eMSP does not know the Token, the eMSP SHALL respond with an HTTP
            # status code: 404" (2.2.1 mod_tokens §POST): the status says it, with or
            # without the 2004 envelope the same section asks for
            if exc.partner_http_status != 404:
                raise
            raise error_for_status(
                2004, "HTTP 404 without an OCPI body: unknown token", remote=True, http_status=404
            ) from exc
        data = driver.one_object(reply.envelope.data, "AuthorizationInfo")
        if not isinstance(data, dict):
            raise RemoteProtocolError("authorize: data is not an AuthorizationInfo")
        return driver.objects.up(data, "AuthorizationInfo")
