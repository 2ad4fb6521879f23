"""Eichrecht: OCMF signed meter values (see docs/eichrecht.md)."""
