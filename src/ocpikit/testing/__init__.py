"""The shipped test kit: spec-example loader, errata table, factories and emulated parties.

Nothing in ocpikit imports this package; tests and users' own suites do.
"""
