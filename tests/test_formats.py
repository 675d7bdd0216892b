"""scripts/formats.py: the one table of output formats, and variant names."""

from __future__ import annotations

import importlib

import pytest
import yaml
from PIL import Image

from conftest import ROOT
from scripts.formats import AUTO_QUALITY_FORMATS, FORMATS, is_variant_name, parse_variant_name, variant_name


def test_the_config_schema_offers_exactly_the_formats_of_the_table():
    schema = yaml.safe_load((ROOT / "rules" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["formats"]["items"]["enum"] == list(FORMATS)
    assert set(schema["properties"]["encoders"]["properties"]) == set(FORMATS)


def test_the_config_schema_takes_quality_auto_exactly_for_the_formats_with_a_search_start():
    encoders = yaml.safe_load((ROOT / "rules" / "schemas" / "config.schema.yaml").read_text())["properties"]["encoders"]
    takes_auto = {
        fmt for fmt, spec in encoders["properties"].items()
        if spec["properties"].get("quality", {}).get("pattern") == "^auto$"
    }
    assert takes_auto == set(AUTO_QUALITY_FORMATS) == {"webp", "avif", "jpeg"}
    for fmt in AUTO_QUALITY_FORMATS:
        quality = encoders["properties"][fmt]["properties"]["quality"]
        assert quality["default"] == FORMATS[fmt].start_quality
        assert quality["maximum"] == FORMATS[fmt].max_quality


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_is_pillow_s_and_its_mime_type_is_pillow_s(fmt):
    spec = FORMATS[fmt]
    importlib.import_module(spec.plugin)
    assert spec.pillow in Image.SAVE
    assert Image.MIME[spec.pillow] == spec.mime


@pytest.mark.parametrize(
    ("stem", "width", "height", "fmt"),
    [("a", 480, 320, "webp"), ("my_photo_2", 1, 1, "avif"), ("x y, z", 992, 661, "jpeg"), ("v1.2", 50, 33, "png")],
)
def test_a_variant_name_reads_back(stem, width, height, fmt):
    name = variant_name(stem, width, height, fmt)
    assert name == f"{stem}_{width}x{height}.{fmt}"
    assert is_variant_name(name)
    assert parse_variant_name(name) == (stem, width, height, fmt)


@pytest.mark.parametrize("name", ["a.webp", "a_0x5.png", "a_10x5.gif", "a_10x5.png.part", "_10x5.png"])
def test_other_names_are_not_variants(name):
    assert not is_variant_name(name)
    with pytest.raises(ValueError, match="not a variant name"):
        parse_variant_name(name)
