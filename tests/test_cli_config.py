"""The ``train`` command's options and the training configs stay in step: a new config field
cannot be forgotten in the CLI."""

from __future__ import annotations

from dataclasses import fields

from korean_gan.cli import build_parser
from korean_gan.cli.train import OPTION_FIELDS, PRESET_ONLY
from korean_gan.training.config import ConditionalConfig, ReferenceConfig


def _train_parser():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices["train"]


def test_every_config_field_has_an_option_or_is_named_preset_only():
    config_fields = {f.name for cls in (ReferenceConfig, ConditionalConfig) for f in fields(cls)}
    assert len(config_fields) > 30
    covered = set(OPTION_FIELDS.values()) | PRESET_ONLY
    assert config_fields - covered == set(), "add an option or list the field in PRESET_ONLY"
    assert covered - config_fields == set(), "an option or PRESET_ONLY names no config field"
    assert not set(OPTION_FIELDS.values()) & PRESET_ONLY


def test_every_mapped_option_exists_in_the_train_parser():
    dests = {a.dest for a in _train_parser()._actions} - {"help", "handler", "resume"}
    assert set(OPTION_FIELDS) == dests
