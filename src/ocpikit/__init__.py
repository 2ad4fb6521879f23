"""ocpikit: an OCPI 2.1.1 / 2.2.1 / 2.3.0 roaming platform.

The public API is curated per subpackage (each defines ``__all__``):

- :mod:`ocpikit.core`: version-independent primitives (status codes, errors, envelope, ...)
- :mod:`ocpikit.models`: wire models per version and the ``OBJECTS`` registry
- :mod:`ocpikit.convert`: translation between versions with declared losses
- :mod:`ocpikit.tariffs`: the tariff price engine
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
