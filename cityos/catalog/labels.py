"""Display labels of the catalogue's code values (English ids, translated when shown)."""

from __future__ import annotations

from cityos.core.i18n import gettext, lazy

SHARE_TYPE = {
    "unconditional": lazy("Unconditional sharing"),
    "conditional": lazy("Conditional sharing"),
    "none": lazy("Not shared"),
}
OPEN_TYPE = {
    "unconditional": lazy("Open unconditionally"),
    "conditional": lazy("Open on conditions"),
    "none": lazy("Not open"),
}
UPDATE_CYCLE = {
    "realtime": lazy("Real time"),
    "daily": lazy("Daily"),
    "weekly": lazy("Weekly"),
    "monthly": lazy("Monthly"),
    "quarterly": lazy("Quarterly"),
    "yearly": lazy("Yearly"),
    "irregular": lazy("Irregular"),
}
FORMAT = {
    "database": lazy("Database"),
    "spreadsheet": lazy("Spreadsheet"),
    "file": lazy("File"),
    "image": lazy("Image"),
    "stream": lazy("Stream"),
    "api": lazy("Interface (API)"),
    "other": lazy("Other"),
}
STATUS = {
    "draft": lazy("Draft"),
    "submitted": lazy("Submitted"),
    "rejected": lazy("Rejected"),
    "confirmed": lazy("Confirmed"),
    "published": lazy("Published"),
}
ITEM_TYPE = {
    "string": lazy("String"),
    "text": lazy("Text"),
    "integer": lazy("Integer"),
    "number": lazy("Number"),
    "boolean": lazy("Boolean"),
    "date": lazy("Date"),
    "datetime": lazy("Date and time"),
}
SENSITIVITY = {
    "public": lazy("Public information"),
    "internal": lazy("Internal"),
    "sensitive": lazy("Sensitive"),
    "personal": lazy("Personal information"),
    "sensitive_personal": lazy("Sensitive personal information"),
}
SHARE_METHOD = {
    "interface": lazy("Interface"),
    "download": lazy("Download"),
    "query": lazy("Query"),
    "other": lazy("Other"),
}
ACTION = {
    "create": lazy("Created"),
    "update": lazy("Updated"),
    "submit": lazy("Submitted for confirmation"),
    "confirm": lazy("Confirmed"),
    "reject": lazy("Rejected"),
    "publish": lazy("Published"),
    "withdraw": lazy("Withdrawn"),
}
# action buttons (imperative)
ACTION_BUTTON = {
    "submit": lazy("Submit for confirmation"),
    "confirm": lazy("Confirm"),
    "reject": lazy("Reject"),
    "publish": lazy("Publish"),
    "withdraw": lazy("Withdraw"),
}
# metadata field → label (STANDARDS.md core metadata, in Chinese when shown)
FIELD = {
    "name": lazy("Resource name"),
    "code": lazy("Resource code"),
    "class_code": lazy("Resource class"),
    "provider_id": lazy("Provider"),
    "summary": lazy("Summary"),
    "format": lazy("Resource format"),
    "share_type": lazy("Share type"),
    "share_condition": lazy("Share condition"),
    "share_method": lazy("Share method"),
    "share_basis": lazy("Legal basis for not sharing"),
    "open_type": lazy("Open type"),
    "open_condition": lazy("Open condition"),
    "update_cycle": lazy("Update cycle"),
    "published_on": lazy("Publication date"),
    "keywords": lazy("Keywords"),
    "districts": lazy("Districts covered"),
    "related_codes": lazy("Related resources"),
    "key_fields": lazy("Key fields"),
    "items": lazy("Information items"),
    "status": lazy("Status"),
    "version": lazy("Version"),
}
# facet key → label
FACET = {
    "provider": lazy("Provider"),
    "class": lazy("Resource class"),
    "share_type": lazy("Share type"),
    "open_type": lazy("Open type"),
    "format": lazy("Resource format"),
    "update_cycle": lazy("Update cycle"),
    "district": lazy("District"),
    "status": lazy("Status"),
    "keyword": lazy("Keywords"),
}
SORTS = {
    "relevance": lazy("Relevance"),
    "updated": lazy("Recently updated"),
    "name": lazy("Name"),
    "code": lazy("Resource code"),
}

ENUM_LABELS: dict[str, dict[str, str]] = {
    "share_type": SHARE_TYPE,
    "open_type": OPEN_TYPE,
    "update_cycle": UPDATE_CYCLE,
    "format": FORMAT,
    "status": STATUS,
    "share_method": SHARE_METHOD,
    "data_type": ITEM_TYPE,
    "sensitivity": SENSITIVITY,
}


def label(kind: str, value: str | None) -> str:
    """The translated label of a code value (the value itself when unknown)."""
    if value is None:
        return ""
    table = ENUM_LABELS.get(kind, {})
    return gettext(table[value]) if value in table else value
