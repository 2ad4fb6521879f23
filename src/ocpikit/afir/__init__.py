"""AFIR (Regulation (EU) 2023/1804) data for National Access Points, from OCPI 2.3.0 objects.

- :mod:`ocpikit.afir.items`, :mod:`ocpikit.afir.check`: the AFIR data check (Tables A, B, F
  of Implementing Regulation (EU) 2025/655: present / derivable / missing, per location/EVSE);
- :mod:`ocpikit.afir.mobilithek`, :mod:`ocpikit.afir.status`: DATEX II JSON in the German
  NAP's (Mobilithek) AFIR profile 01-00-00, static table and dynamic status publications;
- :mod:`ocpikit.afir.datex37`, :mod:`ocpikit.afir.datex37_json`: plain DATEX II 3.7;
- :mod:`ocpikit.afir.export`: which format/profile is which writer;
- :mod:`ocpikit.afir.supplement`, :mod:`ocpikit.afir.source`: the ``[afir]`` supplement for
  items OCPI cannot carry, and reading everything from storage.

Pure: no web framework, HTTP client or database driver (import-linter); sits beside
``ocpikit.operations``. The mapping is documented in ``docs/afir.md``.
"""
