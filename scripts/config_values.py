"""Config values as the schema types them, whether they came from config.yaml or
from ``--config``.

Snakemake reads ``--config key=value`` with YAML's base loader inside lists and
mappings, so ``--config 'widths=[1200, 600]'`` gives the strings ``"1200"`` and
``"600"``, and it takes only ``True``/``False`` as booleans. :func:`typed` reads
each string the schema says is a number or a boolean as YAML would
(``true``, ``1200``), and leaves every other value as it is, for the schema to
judge.
"""

from __future__ import annotations

from typing import Any

import yaml

_TYPES = {"integer": int, "number": (int, float), "boolean": bool}


def typed(value: Any, schema: dict) -> Any:
    """``value`` with each string the ``schema`` types as a number or boolean
    parsed; with a list of types (``[integer, string]``), the first that fits."""
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if isinstance(value, str) and any(kind in _TYPES for kind in kinds):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        for kind in kinds:
            wanted = _TYPES.get(kind)
            if wanted and isinstance(parsed, wanted) and not (kind != "boolean" and isinstance(parsed, bool)):
                return parsed
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [typed(item, schema["items"]) for item in value]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: typed(item, properties.get(key, extra if isinstance(extra, dict) else {}))
            for key, item in value.items()
        }
    return value
