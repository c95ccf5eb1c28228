"""Every command that fills a library config stays in step with it: each config field is set
by an option or named as set by the Python API only, and each option maps onto a field or is
named as one that sets none. A new field cannot be forgotten in the CLI."""

from __future__ import annotations

import importlib
from dataclasses import fields

import pytest

from korean_gan.cli import _GROUPS, build_parser

MAPS = [m for group in _GROUPS for m in getattr(group, "CONFIG_OPTIONS", ())]


def _subparser(words):
    parser = build_parser()
    for word in words:
        action = next(a for a in parser._actions if getattr(a, "choices", None)
                      and isinstance(a.choices, dict) and word in a.choices)
        parser = action.choices[word]
    return parser


def _config_fields(paths) -> set[str]:
    names = set()
    for path in paths:
        module, name = path.rsplit(".", 1)
        names |= {f.name for f in fields(getattr(importlib.import_module(module), name))}
    return names


def test_the_commands_that_fill_configs_are_all_mapped():
    assert {m.command for m in MAPS} == {("train",), ("distill",), ("synth",), ("template",),
                                         ("ingest",), ("adapt",), ("data", "build"),
                                         ("evaluator", "train"), ("train-upsampler",),
                                         ("font",), ("lines",)}


@pytest.mark.parametrize("mapping", MAPS, ids=lambda m: " ".join(m.command))
def test_every_config_field_has_an_option_or_is_api_only(mapping):
    config_fields = _config_fields(mapping.configs)
    assert len(config_fields) >= 5
    mapped = set(mapping.options.values())
    assert config_fields - mapped - mapping.api_only == set(), \
        "give the field an option, or name it in api_only"
    assert (mapped | mapping.api_only) - config_fields == set(), "a mapping names no field"
    assert not mapped & mapping.api_only


@pytest.mark.parametrize("mapping", MAPS, ids=lambda m: " ".join(m.command))
def test_every_option_maps_onto_a_field_or_is_cli_only(mapping):
    dests = {a.dest for a in _subparser(mapping.command)._actions} - {"help"}
    assert dests == set(mapping.options) | mapping.cli_only
