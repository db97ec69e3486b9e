"""The vendors' documented example records, copied verbatim from their docs (seed pages, 2026-11).

Tests check that the fixtures contain them unchanged and that the emulator serves them.
"""

from __future__ import annotations

from typing import Any

FAMULOR_PHONE_NUMBERS_DOC = "https://docs.famulor.io/en/api-reference/phone-numbers/list"
FAMULOR_PHONE_NUMBERS: list[dict[str, Any]] = [
    {
        "id": 1,
        "phone_number": "+49155551234",
        "country_code": "DE",
        "type": "normal",
        "type_label": "Dedicated Number",
        "sms_capable": True,
        "region": "us1",
        "has_active_subscription": True,
        "created_at": "2025-01-07T10:30:00.000000Z",
    },
    {
        "id": 2,
        "phone_number": "+442071234567",
        "country_code": "GB",
        "type": "normal",
        "type_label": "Dedicated Number",
        "sms_capable": False,
        "region": "us1",
        "has_active_subscription": True,
        "created_at": "2025-01-05T14:20:00.000000Z",
    },
]

FAMULOR_SENDERS_DOC = "https://docs.famulor.io/en/api-reference/whatsapp/get-senders"
FAMULOR_SENDERS: list[dict[str, Any]] = [
    {
        "id": 12,
        "phone_number": "+14155551234",
        "display_name": "Acme Corp Support",
        "status": "online",
        "quality_rating": "GREEN",
        "messaging_limit": 10000,
        "messaging_limit_formatted": "10,000 / 24hr",
    },
    {
        "id": 15,
        "phone_number": "+442071234567",
        "display_name": "Acme Corp Sales",
        "status": "online",
        "quality_rating": "GREEN",
        "messaging_limit": None,
        "messaging_limit_formatted": "Unlimited",
    },
]

FAMULOR_ASSISTANT_NUMBERS_DOC = "https://docs.famulor.io/en/api-reference/assistants/phone-numbers"
FAMULOR_ASSISTANT_NUMBERS: list[dict[str, Any]] = [
    {
        "id": 2103,
        "phone_number": "+491748236179",
        "country_code": "DE",
        "type_label": "Caller ID",
        "is_available": True,
    },
    {
        "id": 2131,
        "phone_number": "+4915792613301",
        "country_code": "DE",
        "type_label": "Caller ID",
        "is_available": True,
    },
]

BUTTER_DOC = "https://docs.getbutter.ai/api-reference/phone-numbers/list"
BUTTER_PHONE_NUMBERS: list[dict[str, Any]] = [
    {
        "phone_number_id": "phon_a1b2c3d4e5f6",
        "phone_number": "+15551234567",
        "provider": "twilio",
        "status": "assigned",
        "supports_inbound": True,
        "supports_outbound": True,
        "assigned_agent_id": "agent_b2c3d4e5f6a7",
        "created_at": "2024-01-15T10:30:00Z",
    },
    {
        "phone_number_id": "phon_b2c3d4e5f6a7",
        "phone_number": "+15559876543",
        "provider": "sip",
        "status": "free",
        "supports_inbound": True,
        "supports_outbound": True,
        "assigned_agent_id": None,
        "created_at": "2024-01-10T09:00:00Z",
    },
]

CONTACTSHIP_DOC = "https://docs.contactship.ai/api-reference/endpoint/get-phone-numbers"
CONTACTSHIP_PHONE_NUMBERS: list[dict[str, Any]] = [
    {
        "id": "pn-a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "phone_number": "+12025551234",
        "type": "outbound",
        "organization_id": "org-f1e2d3c4-b5a6-7890-1234-567890abcdef",
        "created_at": "2026-01-15T10:00:00Z",
    },
    {
        "id": "pn-b2c3d4e5-f6a7-8901-bcde-f12345678901",
        "phone_number": "+14155559876",
        "type": "inbound",
        "organization_id": "org-f1e2d3c4-b5a6-7890-1234-567890abcdef",
        "created_at": "2026-02-01T08:30:00Z",
    },
]

MINDHUNTERS_DOC = "https://developers.mindhunters.ai/api-reference/phone-numbers/list-your-phone-numbers"
# The documented example is a template ("<string>", 123); these are its real values, which must survive.
MINDHUNTERS_REAL_VALUES: dict[str, Any] = {
    "phone_number_uuid": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "number": "+12084439178",
    "country_code": "US",
    "type": "local",
    "is_external": True,
    "status": "active",
    "capabilities": {
        "voice": True,
        "sms": True,
        "mms": True,
        "fax": True,
        "emergency": True,
        "local_calling": True,
    },
    "purchased_at": "2023-11-07T05:31:56Z",
    "updated_at": "2023-11-07T05:31:56Z",
}

VERBATIM: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("famulor", "phone-numbers"): FAMULOR_PHONE_NUMBERS,
    ("famulor", "whatsapp-senders"): FAMULOR_SENDERS,
    ("famulor", "assistant-phone-numbers"): FAMULOR_ASSISTANT_NUMBERS,
    ("butter", "phone-numbers"): BUTTER_PHONE_NUMBERS,
    ("contactship", "phone-numbers"): CONTACTSHIP_PHONE_NUMBERS,
}
