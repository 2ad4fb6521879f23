"""The OCPI endpoints, one module each: versions and version details
(:mod:`~ocpikit.server.endpoints.versions`), credentials
(:mod:`~ocpikit.server.endpoints.credentials`) and the functional modules bound from the
endpoint table (:mod:`~ocpikit.server.endpoints.modules`)."""
