"""The one error tree of ocpikit (DESIGN §6; DIGEST §1.4, §1.5).

::

    OcpiError                         status_code, message, http_status, path, problems
    │                                 (codes and HTTP defaults from core.status)
    ├── ClientError          2000     the request broke a rule (answered 2xxx)
    │   ├── InvalidOrMissingParameters  2001  HTTP 400, names the field path(s)
    │   ├── NotEnoughInformation        2002
    │   ├── UnknownLocation             2003
    │   ├── UnknownToken                2004  HTTP 404 (errata A24)
    │   ├── InvalidJson                 2000  HTTP 400, body is not JSON
    │   ├── Unauthorized                2000  HTTP 401, missing or unknown token
    │   ├── NotFound                    2000  HTTP 404, no such object
    │   ├── MethodNotAllowed            2000  HTTP 405, e.g. credentials POST when registered
    │   ├── RequestTimeout              2000  HTTP 408, the body did not arrive in time
    │   ├── PayloadTooLarge             2000  HTTP 413, the body is over the limit
    │   └── TooManyRequests             2000  HTTP 429 with Retry-After (rate limits)
    ├── ServerError          3000     the answering party failed (GenericServerError is an alias)
    │   ├── UnableToUseClientApi        3001  the calls back to the client failed
    │   ├── UnsupportedVersion          3002
    │   └── NoMatchingEndpoints         3003
    ├── HubError             4000     (2.2+)
    │   ├── UnknownReceiver             4001
    │   ├── HubTimeout                  4002
    │   └── HubConnectionProblem        4003
    ├── LocalError                    we, or the code calling ocpikit, broke a rule; nothing sent
    │   ├── UsageError                a library API was called wrongly (a bug in the caller)
    │   ├── NoEndpoint        3003    the partner announced no endpoint for the call
    │   └── UrlRefused        3001    the URL policy does not let the platform call a URL
    └── RemoteError                   the partner broke a rule or reported a failure
        ├── TransportError   3001     no usable HTTP answer (connect, timeout, TLS); the raw
        │                             exception is kept as __cause__, never re-raised raw
        ├── PartnerBusy      3001     HTTP 429/503: come back later (retry_after)
        ├── PullFailed       3001     a page of a pull still failed after its retries: names
        │                             the page, the attempts, the HTTP and OCPI status and the
        │                             wait honoured; the last failure is __cause__
        ├── RemoteProtocolError 3001  an answer that is not an OCPI envelope
        │   ├── PartnerHttpError          with the HTTP status it came with
        │   └── ResponseTooLarge          over max_response_bytes once decompressed
        └── PartnerError              the partner answered with an OCPI error status; each
                                      instance is ALSO of the class of its code, so
                                      ``except UnknownToken`` catches the partner's 2004 too

The classes by status code are neutral: a server handler raises ``UnknownLocation`` and the
server turns it into an envelope (``core.envelope.error``), whoever is to blame. The two
sides are told apart where it matters: :class:`LocalError` is raised before anything goes out
(our bug or our caller's), :class:`RemoteError` after a partner did something; the client builds
remote errors with :func:`error_for_status` (``remote=True``).

Validation: :func:`validation_problems` turns a pydantic ``ValidationError`` into
``json.path: message`` lines (paths like ``evses[0].connectors[1].max_voltage``, formatted by
:func:`format_error_path`) and :func:`from_validation_error` wraps them in a 2001 error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from ocpikit.core.status import StatusCategory, StatusCode, lookup

__all__ = [
    "ClientError",
    "GenericServerError",
    "HubConnectionProblem",
    "HubError",
    "HubTimeout",
    "InvalidJson",
    "InvalidOrMissingParameters",
    "LocalError",
    "MethodNotAllowed",
    "NoEndpoint",
    "NoMatchingEndpoints",
    "NotEnoughInformation",
    "NotFound",
    "OcpiError",
    "PartnerBusy",
    "PartnerError",
    "PartnerHttpError",
    "PayloadTooLarge",
    "PullFailed",
    "RemoteError",
    "RemoteProtocolError",
    "RequestTimeout",
    "ResponseTooLarge",
    "ServerError",
    "TooManyRequests",
    "TransportError",
    "UnableToUseClientApi",
    "Unauthorized",
    "UnknownLocation",
    "UnknownReceiver",
    "UnknownToken",
    "UnsupportedVersion",
    "UrlRefused",
    "UsageError",
    "error_for_status",
    "format_error_path",
    "from_validation_error",
    "validation_problems",
]


class OcpiError(Exception):
    """Base of every ocpikit error.

    - ``status_code``: the OCPI status code (a row of :data:`ocpikit.core.status.STATUS_CODES`,
      or a custom ``x9xx`` code);
    - ``message``: human text for ``status_message`` (never a secret);
    - ``http_status``: the HTTP status to answer with (default from the status table, or the
      class's own when the spec names one, e.g. 401 or 405);
    - ``path``: the JSON path of the offending field, when there is one;
    - ``problems``: every ``path: message`` line when several fields were wrong.
    """

    default_status_code: ClassVar[int] = 3000
    default_http_status: ClassVar[int | None] = None
    default_message: ClassVar[str | None] = None

    status_code: int
    message: str
    http_status: int
    path: str | None
    problems: tuple[str, ...]

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        http_status: int | None = None,
        path: str | None = None,
        problems: Iterable[str] = (),
    ) -> None:
        code = self.default_status_code if status_code is None else status_code
        row = lookup(code)  # ValueError for non-OCPI codes: a bug, not a partner's fault
        self._check_category(row)
        self.status_code = code
        self.problems = tuple(problems)
        self.path = path
        self.message = message if message is not None else self._default_text(row)
        if http_status is not None:
            self.http_status = http_status
        elif self.default_http_status is not None and status_code in (
            None,
            self.default_status_code,
        ):
            self.http_status = self.default_http_status
        else:
            self.http_status = row.http_status
        super().__init__(self.message)

    def _default_text(self, row: StatusCode) -> str:
        base = self.default_message or row.meaning
        if self.problems:
            return f"{base}: " + "; ".join(self.problems)
        if self.path:
            return f"{base}: {self.path}"
        return base

    def _check_category(self, row: StatusCode) -> None:
        if row.is_success:
            raise ValueError(f"{row.code} is a success code, not an error")
        family = self._family()
        expected = _CATEGORY_OF_CLASS.get(family) if family is not None else None
        if expected is not None and row.category is not expected:
            raise ValueError(
                f"{type(self).__name__} needs a {expected.value} status code, got {row.code}"
            )

    def _family(self) -> type[OcpiError] | None:
        for klass in type(self).__mro__:
            if klass in _CATEGORY_OF_CLASS:
                return klass
        return None

    @property
    def status(self) -> StatusCode:
        """The status-table row of :attr:`status_code`."""
        return lookup(self.status_code)

    @property
    def status_message(self) -> str:
        """The text for the envelope's ``status_message``."""
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, "
            f"http_status={self.http_status}, message={self.message!r})"
        )


# --- 2xxx --------------------------------------------------------------------------------
class ClientError(OcpiError):
    """2xxx: the request broke a rule (generic 2000; custom 29xx via ``status_code=``)."""

    default_status_code = 2000


class InvalidOrMissingParameters(ClientError):
    """2001: a field or parameter is missing or invalid; ``path`` / ``problems`` name it.

    Also the answer to a 2.2+ PATCH without ``last_updated`` and to a URL id that differs from
    the body id (DIGEST §1.4, §1.9).
    """

    default_status_code = 2001


class NotEnoughInformation(ClientError):
    """2002: e.g. a real-time authorization without LocationReferences (DIGEST §1.4)."""

    default_status_code = 2002


class UnknownLocation(ClientError):
    """2003: e.g. a START_SESSION command for a Location we do not know."""

    default_status_code = 2003


class UnknownToken(ClientError):
    """2004 (2.2+) with HTTP 404: real-time authorization of an unknown token (errata A24)."""

    default_status_code = 2004


class InvalidJson(ClientError):
    """The body is not valid JSON: HTTP 400 (``status_codes``, all versions)."""

    default_http_status = 400
    default_message = "Request body is not valid JSON"


class Unauthorized(ClientError):
    """HTTP 401: Authorization header missing, token unknown, or token A outside
    credentials/versions (DIGEST §1.1, §1.5)."""

    default_http_status = 401
    default_message = "Unauthorized"


class NotFound(ClientError):
    """HTTP 404: the object or resource does not exist, or belongs to another party."""

    default_http_status = 404
    default_message = "Not found"


class MethodNotAllowed(ClientError):
    """HTTP 405: credentials POST when registered, PUT/DELETE when not (DIGEST §2.2)."""

    default_http_status = 405
    default_message = "Method not allowed"


# --- 3xxx --------------------------------------------------------------------------------
class RequestTimeout(ClientError):
    """The request's body did not arrive within the server's limit (HTTP 408)."""

    default_http_status = 408
    default_message = "The request body did not arrive in time"


class PayloadTooLarge(ClientError):
    """The request's body is larger than the server accepts (HTTP 413)."""

    default_http_status = 413
    default_message = "The request body is too large"


class TooManyRequests(ClientError):
    """The caller is over a rate limit (HTTP 429); ``response_headers`` carries the
    ``Retry-After`` seconds."""

    default_http_status = 429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: str = "1") -> None:
        super().__init__(message)
        self.response_headers = {"Retry-After": retry_after}


class ServerError(OcpiError):
    """3xxx: the answering party failed (generic 3000; custom 39xx via ``status_code=``)."""

    default_status_code = 3000


GenericServerError = ServerError


class UnableToUseClientApi(ServerError):
    """3001: the calls back to the client failed, e.g. during a credentials POST."""

    default_status_code = 3001


class UnsupportedVersion(ServerError):
    """3002: no version in common, or a version we do not implement."""

    default_status_code = 3002


class NoMatchingEndpoints(ServerError):
    """3003: no matching endpoints, or endpoints we require are missing (registration)."""

    default_status_code = 3003


# --- 4xxx --------------------------------------------------------------------------------
class HubError(OcpiError):
    """4xxx (2.2+): the Hub could not forward the request (generic 4000; custom 49xx)."""

    default_status_code = 4000


class UnknownReceiver(HubError):
    """4001: the TO address of the routing headers is unknown to the Hub."""

    default_status_code = 4001


class HubTimeout(HubError):
    """4002: the forwarded request timed out."""

    default_status_code = 4002


class HubConnectionProblem(HubError):
    """4003: the receiving party is not connected to the Hub."""

    default_status_code = 4003


# --- sides ---------------------------------------------------------------------------------
class LocalError(OcpiError):
    """We, or the code calling ocpikit, broke a rule. Raised before any I/O; nothing was sent
    or stored. Its status code says what a server would answer if it reached one."""


class UsageError(LocalError, ValueError):
    """A library API was called with arguments that cannot be right (a bug in the caller)."""

    default_status_code = 3000


class RemoteError(OcpiError):
    """The partner broke a rule or reported a failure (a response we received, or none)."""

    default_status_code = 3001


class TransportError(RemoteError):
    """No usable HTTP answer: connection refused, timeout, TLS, DNS. The low-level exception is
    chained as ``__cause__``; its text is kept in ``detail`` and never in a partner-facing
    message. Answered as 3001 when it happened while serving a request (DIGEST §2.2)."""

    default_message = "Unable to reach the partner"

    def __init__(
        self,
        message: str | None = None,
        *,
        url: str | None = None,
        detail: str | None = None,
        status_code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.url = url
        self.detail = detail
        super().__init__(message, status_code=status_code, http_status=http_status)

    @classmethod
    def wrap(cls, exc: BaseException, *, url: str | None = None) -> TransportError:
        """Wrap a transport exception; raise the result ``from exc``."""
        err = cls(url=url, detail=f"{type(exc).__name__}: {exc}")
        err.__cause__ = exc
        return err


class RemoteProtocolError(RemoteError):
    """The partner's answer is not OCPI: not JSON, no envelope, a non-OCPI status code."""

    default_message = "The partner's response is not a valid OCPI response"


class ResponseTooLarge(RemoteProtocolError):
    """The partner's answer is larger, once decompressed, than the platform reads
    (``[limits] max_response_bytes``); what arrived is dropped."""

    default_message = "The partner's response is too large"


class PartnerError(RemoteError):
    """The partner answered with an OCPI error status. Built by :func:`error_for_status` with
    ``remote=True``; each instance is also of the class of its status code."""

    partner_http_status: int | None = None


_CATEGORY_OF_CLASS: dict[type[OcpiError], StatusCategory] = {
    ClientError: StatusCategory.CLIENT,
    ServerError: StatusCategory.SERVER,
    HubError: StatusCategory.HUB,
}

_CLASS_BY_CODE: dict[int, type[OcpiError]] = {
    2001: InvalidOrMissingParameters,
    2002: NotEnoughInformation,
    2003: UnknownLocation,
    2004: UnknownToken,
    3001: UnableToUseClientApi,
    3002: UnsupportedVersion,
    3003: NoMatchingEndpoints,
    4001: UnknownReceiver,
    4002: HubTimeout,
    4003: HubConnectionProblem,
}
_CLASS_BY_CATEGORY: dict[StatusCategory, type[OcpiError]] = {
    StatusCategory.CLIENT: ClientError,
    StatusCategory.SERVER: ServerError,
    StatusCategory.HUB: HubError,
}


_PARTNER_CLASSES: dict[type[OcpiError], type[PartnerError]] = {}


def _partner_class(base: type[OcpiError]) -> type[PartnerError]:
    # One class per code class, e.g. PartnerUnknownToken(PartnerError, UnknownToken).
    klass = _PARTNER_CLASSES.get(base)
    if klass is None:
        name = "Partner" + base.__name__
        klass = type(name, (PartnerError, base), {"__module__": __name__, "__qualname__": name})
        _PARTNER_CLASSES[base] = klass
    return klass


def error_for_status(
    status_code: int,
    message: str | None = None,
    *,
    remote: bool = False,
    http_status: int | None = None,
) -> OcpiError:
    """The error for an OCPI error code: the most specific class of the tree.

    With ``remote=True`` (a partner's error envelope) the instance is a :class:`PartnerError`
    as well, and ``http_status`` is the HTTP status the partner answered with (kept in
    ``partner_http_status``). Success codes and non-OCPI numbers raise :class:`ValueError`.
    """
    row = lookup(status_code)
    if row.is_success:
        raise ValueError(f"{status_code} is a success code, not an error")
    base = _CLASS_BY_CODE.get(status_code) or _CLASS_BY_CATEGORY[row.category]
    if not remote:
        return base(message, status_code=status_code, http_status=http_status)
    err = _partner_class(base)(message, status_code=status_code)
    err.partner_http_status = http_status
    return err


# --- validation -----------------------------------------------------------------------------
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# pydantic adds a union member's tag to ``loc``: "str-enum[Status]", "function-after[...]",
# "list[Connector]", "str", "int", or a model class name. None of these is an OCPI JSON key
# (those are snake_case), so they are dropped from the path.
_TAG = re.compile(r"[a-z][a-z0-9-]*\[.*\]\Z|[A-Z][A-Za-z0-9]*\Z")
_SCALAR_TAGS = frozenset(
    {"str", "int", "float", "bool", "bytes", "none", "decimal", "datetime", "list", "dict"}
)


def format_error_path(loc: Sequence[str | int]) -> str:
    """A pydantic ``loc`` as a JSON path: ``("evses", 0, "max_voltage")`` →
    ``evses[0].max_voltage``. Keys that are not identifiers are quoted (``["a b"]``); pydantic's
    union tags are dropped; the empty location (the body itself) is ``(root)``."""
    out: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
            continue
        key = str(part)
        if i > 0 and (_TAG.match(key) or key in _SCALAR_TAGS):
            continue
        if _KEY.match(key):
            out.append(f".{key}" if out else key)
        else:
            out.append(f"[{json.dumps(key, ensure_ascii=False)}]")
    return "".join(out) or "(root)"


def validation_problems(exc: ValidationError, *, prefix: Sequence[str | int] = ()) -> list[str]:
    """Every problem of a pydantic ``ValidationError`` as ``json.path: message``, in order,
    without duplicates. ``prefix`` is prepended to every location (e.g. ``("data",)``)."""
    seen: dict[str, None] = {}
    for detail in exc.errors(include_url=False, include_context=False, include_input=False):
        line = f"{format_error_path((*prefix, *detail['loc']))}: {detail['msg']}"
        seen.setdefault(line, None)
    return list(seen)


def from_validation_error(
    exc: ValidationError, *, prefix: Sequence[str | int] = ()
) -> InvalidOrMissingParameters:
    """A 2001 error (HTTP 400) whose message lists every problem of ``exc``; ``path`` is the
    first problem's path and ``problems`` the full list. Raise the result ``from exc``."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    first = format_error_path((*prefix, *errors[0]["loc"])) if errors else None
    err = InvalidOrMissingParameters(path=first, problems=validation_problems(exc, prefix=prefix))
    err.__cause__ = exc
    return err


# --- errors of the partner client and the URL policy ---------------------------------------
class PartnerBusy(RemoteError):
    """HTTP 429 or 503: the partner asks us to come back later (``retry_after`` seconds when it
    said so with ``Retry-After``)."""

    default_message = "The partner is busy or unavailable"

    def __init__(
        self, message: str | None = None, *, partner_http_status: int, retry_after: float | None
    ) -> None:
        self.partner_http_status = partner_http_status
        self.retry_after = retry_after
        super().__init__(message)


class PullFailed(RemoteError):
    """A page of a pull failed and was not (or no longer) retried: ``module``, ``page`` (1 for
    the first page of this walk), ``attempts`` made, the partner's ``partner_http_status`` and
    ``ocpi_status`` when it answered, and ``retry_after``: the last ``Retry-After`` it asked for
    (seconds). The message states them all; the last failure is chained as ``__cause__``."""

    default_message = "A page of the pull failed"

    def __init__(
        self,
        message: str,
        *,
        module: str,
        page: int,
        attempts: int,
        partner_http_status: int | None = None,
        ocpi_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.module = module
        self.page = page
        self.attempts = attempts
        self.partner_http_status = partner_http_status
        self.ocpi_status = ocpi_status
        self.retry_after = retry_after
        super().__init__(message)


class PartnerHttpError(RemoteProtocolError):
    """An answer that is not an OCPI envelope (an HTML error page, an empty 500, a proxy's
    text); ``partner_http_status`` is the HTTP status it came with."""

    def __init__(self, message: str | None = None, *, partner_http_status: int) -> None:
        self.partner_http_status = partner_http_status
        super().__init__(message)


class NoEndpoint(LocalError):
    """The partner announced no endpoint for this module and interface; nothing was sent."""

    default_status_code = 3003
    default_message = "The partner has no such endpoint"


class UrlRefused(LocalError):
    """A URL the policy does not let the platform call; nothing was sent. Answered as 3001 when
    it happened while serving a partner's request (we cannot use its API)."""

    default_status_code = 3001

    def __init__(self, url: str, rule: str) -> None:
        self.url = url
        self.rule = rule
        super().__init__(f"refused to call {_shown_url(url)}: {rule}")


def _shown_url(url: str) -> str:
    """The URL as a message may show it: credentials dropped, at most 200 characters."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = parts._replace(netloc=netloc).geturl()
    return url if len(url) <= 200 else url[:200] + "..."
