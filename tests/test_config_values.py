"""scripts/config_values.py: --config values typed as the schema says."""

import pytest
import yaml

from conftest import ROOT
from scripts.config_values import typed

SCHEMA = yaml.safe_load((ROOT / "rules" / "schemas" / "config.schema.yaml").read_text())


def key(name):
    return SCHEMA["properties"][name]


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("widths", ["1200", "600"], [1200, 600]),
        ("allow_upscale", "true", True),
        ("allow_upscale", "False", False),
        ("reducing_gap", "2.5", 2.5),
        ("reducing_gap", "2", 2),
        ("encoders", {"webp": {"quality": "90", "lossless": "true"}}, {"webp": {"quality": 90, "lossless": True}}),
        ("formats", ["png", "webp"], ["png", "webp"]),
        # A quality is an integer or the string auto.
        ("encoders", {"jpeg": {"quality": "auto"}, "avif": {"quality": "55"}}, {"jpeg": {"quality": "auto"}, "avif": {"quality": 55}}),
        ("auto_quality", {"target": "72.5", "max_width": "992"}, {"target": 72.5, "max_width": 992}),
    ],
)
def test_strings_become_the_type_the_schema_gives(name, given, expected):
    assert typed(given, key(name)) == expected


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("widths", ["wide"]),  # not a number: left for the schema to refuse
        ("allow_upscale", "1"),  # a number is not a boolean
        ("widths", ["true"]),  # a boolean is not a number
        ("input_dir", "123"),  # a string where the schema wants one
    ],
)
def test_other_values_are_left_for_the_schema_to_judge(name, given):
    assert typed(given, key(name)) == given
