from __future__ import annotations

from enum import StrEnum

import pytest
from pydantic import BaseModel, Field, ValidationError

from ocpikit.core.errors import (
    ClientError,
    GenericServerError,
    HubError,
    HubTimeout,
    InvalidJson,
    InvalidOrMissingParameters,
    LocalError,
    MethodNotAllowed,
    NoMatchingEndpoints,
    NotEnoughInformation,
    NotFound,
    OcpiError,
    PartnerError,
    RemoteError,
    RemoteProtocolError,
    ServerError,
    TransportError,
    UnableToUseClientApi,
    Unauthorized,
    UnknownLocation,
    UnknownReceiver,
    UnknownToken,
    UnsupportedVersion,
    UsageError,
    error_for_status,
    format_error_path,
    from_validation_error,
    validation_problems,
)
from ocpikit.core.types import DateTime


@pytest.mark.parametrize(
    ("cls", "code", "http"),
    [
        (ClientError, 2000, 400),
        (InvalidOrMissingParameters, 2001, 400),
        (NotEnoughInformation, 2002, 400),
        (UnknownLocation, 2003, 400),
        (UnknownToken, 2004, 404),
        (InvalidJson, 2000, 400),
        (Unauthorized, 2000, 401),
        (NotFound, 2000, 404),
        (MethodNotAllowed, 2000, 405),
        (GenericServerError, 3000, 500),
        (UnableToUseClientApi, 3001, 500),
        (UnsupportedVersion, 3002, 500),
        (NoMatchingEndpoints, 3003, 500),
        (HubError, 4000, 502),
        (UnknownReceiver, 4001, 404),
        (HubTimeout, 4002, 504),
        (TransportError, 3001, 500),
        (RemoteProtocolError, 3001, 500),
    ],
)
def test_codes_and_http_statuses(cls: type[OcpiError], code: int, http: int) -> None:
    err = cls()
    assert err.status_code == code
    assert err.http_status == http
    assert err.message  # always some text for status_message
    assert err.status.code == code


def test_generic_server_error_is_server_error() -> None:
    assert GenericServerError is ServerError


def test_message_and_overrides() -> None:
    err = UnknownLocation("Location LOC1 unknown", http_status=200)
    assert str(err) == "Location LOC1 unknown"
    assert err.status_message == "Location LOC1 unknown"
    assert err.http_status == 200
    assert "2003" in repr(err)


def test_custom_codes_within_the_family() -> None:
    err = ClientError("partner-specific", status_code=2901)
    assert err.status_code == 2901
    assert err.http_status == 400
    assert err.status.custom


def test_code_of_the_wrong_family_is_refused() -> None:
    with pytest.raises(ValueError, match="client"):
        ClientError(status_code=3000)
    with pytest.raises(ValueError, match="not an OCPI status code"):
        ServerError(status_code=500)


def test_invalid_parameters_names_the_field() -> None:
    err = InvalidOrMissingParameters(path="last_updated")
    assert err.path == "last_updated"
    assert "last_updated" in err.message
    assert err.status_code == 2001


def test_local_and_remote_are_apart() -> None:
    assert issubclass(UsageError, LocalError)
    assert issubclass(UsageError, ValueError)
    for cls in (TransportError, RemoteProtocolError, PartnerError):
        assert issubclass(cls, RemoteError)
        assert not issubclass(cls, LocalError)
    assert not issubclass(UnknownToken, RemoteError | LocalError)


def test_transport_error_wraps_without_leaking() -> None:
    cause = ConnectionRefusedError("[Errno 111] Connection refused to 10.0.0.1")
    err = TransportError.wrap(cause, url="https://partner.example/ocpi/versions")
    assert err.__cause__ is cause
    assert "10.0.0.1" not in err.message
    assert err.detail is not None and "ConnectionRefusedError" in err.detail
    assert err.url == "https://partner.example/ocpi/versions"
    assert isinstance(err, RemoteError)
    assert not isinstance(err, ConnectionError)


def test_error_for_status_picks_the_specific_class() -> None:
    assert type(error_for_status(2004)) is UnknownToken
    assert type(error_for_status(3003)) is NoMatchingEndpoints
    assert type(error_for_status(2950, "custom")) is ClientError
    assert type(error_for_status(3999)) is ServerError
    assert type(error_for_status(4003)).__name__ == "HubConnectionProblem"


def test_partner_errors_are_also_their_code_class() -> None:
    err = error_for_status(2004, "Token unknown", remote=True, http_status=404)
    assert isinstance(err, UnknownToken)
    assert isinstance(err, PartnerError)
    assert isinstance(err, RemoteError)
    assert err.partner_http_status == 404
    assert err.message == "Token unknown"
    with pytest.raises(UnknownToken):
        raise err
    # the same class each time, so it can be compared and pickled by name
    assert type(error_for_status(2004, remote=True)) is type(err)


def test_partner_custom_code_is_kept() -> None:
    err = error_for_status(2901, remote=True)
    assert isinstance(err, ClientError)
    assert isinstance(err, PartnerError)
    assert err.status_code == 2901


def test_error_for_status_refuses_success() -> None:
    with pytest.raises(ValueError, match="success"):
        error_for_status(1000)


# --- validation -------------------------------------------------------------------------------
class _Status(StrEnum):
    AVAILABLE = "AVAILABLE"


class _Connector(BaseModel):
    max_voltage: int
    status: _Status | str = "AVAILABLE"
    last_updated: DateTime | None = None


class _Evse(BaseModel):
    connectors: list[_Connector] = Field(min_length=1)


class _Location(BaseModel):
    id: str
    evses: list[_Evse] | None = None


def _errors(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Location.model_validate(data)
    return info.value


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("evses", 0, "connectors", 1, "max_voltage"), "evses[0].connectors[1].max_voltage"),
        ((), "(root)"),
        ((3, "id"), "[3].id"),
        (("status", "str-enum[Status]"), "status"),
        (("status", "str"), "status"),
        (("evses", 0, "list[Evse]", "Evse", "id"), "evses[0].id"),
        (("extra", "a b"), 'extra["a b"]'),
    ],
)
def test_format_error_path(loc: tuple[str | int, ...], path: str) -> None:
    assert format_error_path(loc) == path


def test_validation_problems_list_every_problem() -> None:
    exc = _errors(
        {
            "evses": [
                {"connectors": [{"max_voltage": 230}, {"max_voltage": "high", "last_updated": 5}]},
                {},
            ]
        }
    )
    problems = validation_problems(exc)
    assert problems[0] == "id: Field required"
    assert any(p.startswith("evses[0].connectors[1].max_voltage: ") for p in problems)
    assert any(p.startswith("evses[0].connectors[1].last_updated: ") for p in problems)
    assert "evses[1].connectors: Field required" in problems


def test_union_problems_are_not_duplicated() -> None:
    exc = _errors({"id": "L1", "evses": [{"connectors": [{"max_voltage": 1, "status": 7}]}]})
    problems = validation_problems(exc)
    assert all(p.startswith("evses[0].connectors[0].status: ") for p in problems)
    assert len(problems) == len(set(problems))


def test_from_validation_error_is_a_2001_naming_paths() -> None:
    exc = _errors({"id": "L1", "evses": [{"connectors": [{"max_voltage": "x"}]}]})
    err = from_validation_error(exc)
    assert isinstance(err, InvalidOrMissingParameters)
    assert err.status_code == 2001
    assert err.http_status == 400
    assert err.path == "evses[0].connectors[0].max_voltage"
    assert "evses[0].connectors[0].max_voltage: Input should be a valid integer" in err.message
    assert err.__cause__ is exc


def test_from_validation_error_with_prefix() -> None:
    exc = _errors({})
    err = from_validation_error(exc, prefix=("data",))
    assert err.problems == ("data.id: Field required",)


def test_invalid_json_is_reported_at_the_root() -> None:
    with pytest.raises(ValidationError) as info:
        _Location.model_validate_json('{"id": ')
    assert validation_problems(info.value)[0].startswith("(root): Invalid JSON")
