from __future__ import annotations

import importlib

import ocpikit.core as core

MODULES = (
    "auth",
    "clock",
    "envelope",
    "errors",
    "headers",
    "pagination",
    "patch",
    "status",
    "types",
    "versions",
)


def test_every_public_name_resolves() -> None:
    for name in core.__all__:
        assert getattr(core, name) is not None, name


def test_reexports_are_the_module_objects() -> None:
    for module_name in MODULES:
        module = importlib.import_module(f"ocpikit.core.{module_name}")
        for name in getattr(module, "__all__", ()):
            if name in core.__all__:
                assert getattr(core, name) is getattr(module, name), name


def test_main_names_of_each_module_are_reexported() -> None:
    for name in (
        "OcpiError",
        "Envelope",
        "success",
        "lookup",
        "PageParams",
        "token_candidates",
        "RoutingHeaders",
        "apply_patch",
        "FixedClock",
        "Version",
        "DateTime",
    ):
        assert name in core.__all__


def test_all_has_no_duplicates() -> None:
    assert len(core.__all__) == len(set(core.__all__))
