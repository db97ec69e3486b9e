"""Templates: compiled envelopes and error bodies."""

from __future__ import annotations

import orjson
import pytest

from mockserver.kinds.templates import CompiledTemplate, placeholders, render_tree


def test_a_compiled_envelope_inserts_raw_bytes_and_json_values() -> None:
    template = CompiledTemplate({"ok": True, "data": "${items}", "meta": {"next": "${next}", "n": "${n}"}})
    body = template.render({"items": b"[1,2]", "next": None, "n": 2})
    assert orjson.loads(body) == {"ok": True, "data": [1, 2], "meta": {"next": None, "n": 2}}


def test_a_placeholder_inside_a_longer_string_is_refused_in_envelopes() -> None:
    with pytest.raises(ValueError, match="whole JSON string"):
        CompiledTemplate({"message": "page ${page}"})


def test_error_bodies_keep_value_types_and_interpolate_keys_and_text() -> None:
    body = render_tree(
        {
            "errors": {"${field}": ["${message}"]},
            "retry_after": "${retry_after}",
            "text": "Cannot ${method} ${path}",
        },
        {"field": "status", "message": "bad", "retry_after": 60, "method": "GET", "path": "/x"},
    )
    assert body == {"errors": {"status": ["bad"]}, "retry_after": 60, "text": "Cannot GET /x"}


def test_placeholders_lists_every_name() -> None:
    assert placeholders({"a": "${x}", "b": ["${y} and ${z}"]}) == {"x", "y", "z"}
