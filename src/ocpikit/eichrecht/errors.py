"""Errors raised while reading OCMF data and keys.

``OcmfError`` (a ``ValueError``) is the root; the verifier turns each one into a result status
rather than letting it escape, so callers of :func:`ocpikit.eichrecht.verify_input` only need to
catch it when they call the lower-level parsers directly::

    OcmfError
    ├── OcmfSyntaxError        the text is not a well-formed OCMF record (names the field path)
    ├── UnsupportedFormatError the data is another signed-meter format (Alfen, EDL40, ...)
    ├── UnsupportedCurveError  the curve or signature algorithm cannot be verified here
    └── PublicKeyError         the public key cannot be decoded
"""

from __future__ import annotations

__all__ = [
    "OcmfError",
    "OcmfSyntaxError",
    "PublicKeyError",
    "UnsupportedCurveError",
    "UnsupportedFormatError",
]


class OcmfError(ValueError):
    """Root of the eichrecht errors."""


class OcmfSyntaxError(OcmfError):
    """Malformed OCMF; ``path`` names the offending part (``"RD[1].RV"``, ``"signature.SD"``)."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UnsupportedFormatError(OcmfError):
    """Signed meter data in a format other than OCMF; ``format_name`` says which."""

    def __init__(self, format_name: str, detail: str = "") -> None:
        self.format_name = format_name
        text = f"signed data format not supported: {format_name}"
        super().__init__(f"{text} ({detail})" if detail else text)


class UnsupportedCurveError(OcmfError):
    """A curve, hash or signature algorithm this package cannot verify."""


class PublicKeyError(OcmfError):
    """A public key that cannot be decoded or does not lie on its curve."""
