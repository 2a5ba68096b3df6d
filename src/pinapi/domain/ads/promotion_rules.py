"""Field rules of pin promotions: allowed values, tracking URLs and creative types.

A creative type must suit the campaign objective (the shared table in ``rules.py``) and the
pin: video creatives need a video pin and a video pin needs one; carousel creatives need a
carousel pin, with one ``carousel_*`` entry per slot. These checks need no database, so the
single, batch and update paths share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pinapi.domain.ads import rules
from pinapi.domain.errors import Invalid, ValidationFailed
from pinapi.store.tables import Pin

STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED")
CREATIVE_TYPES = rules.CREATIVE_TYPES
VIDEO_CREATIVES = frozenset({"APP_VIDEO", "CINEMATIC", "MAX_VIDEO", "NATIVE_VIDEO", "VIDEO"})
CAROUSEL_CREATIVES = frozenset({"CAROUSEL", "SEARCH_PROMINENCE_CAROUSEL"})
TRACKING_EVENTS = rules.TRACKING_EVENTS
# Fields whose change sends the promotion back to review.
REVIEWED_FIELDS = frozenset(
    {
        "name", "creative_type", "destination_url", "android_deep_link", "ios_deep_link",
        "carousel_android_deep_links", "carousel_ios_deep_links", "carousel_destination_urls",
        "collection_items_destination_url_template",
    }
)  # fmt: skip
EDITABLE_FIELDS = REVIEWED_FIELDS | {
    "status",
    "click_tracking_url",
    "view_tracking_url",
    "tracking_urls",
    "is_removable",
}


def _http_url(field: str, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(field, "must be an http(s) URL")


def check_values(values: Mapping[str, Any]) -> None:
    """Field-level checks that need no database (types were checked by the wire model)."""
    unknown = set(values) - EDITABLE_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "cannot be set on a pin promotion")
    if "status" in values and values["status"] not in STATUSES:
        raise Invalid("status", f"must be one of {', '.join(STATUSES)}")
    ctype = values.get("creative_type")
    if ctype is not None and ctype not in CREATIVE_TYPES:
        raise Invalid("creative_type", f"must be one of {', '.join(CREATIVE_TYPES)}")
    _http_url("click_tracking_url", values.get("click_tracking_url"))
    _http_url("view_tracking_url", values.get("view_tracking_url"))
    tracking = values.get("tracking_urls")
    if tracking is not None:
        if not isinstance(tracking, dict):
            raise Invalid("tracking_urls", "must be a JSON object")
        for event, urls in tracking.items():
            if event not in TRACKING_EVENTS:
                raise Invalid("tracking_urls", f"unknown event {event!r}; use {', '.join(TRACKING_EVENTS)}")
            if not isinstance(urls, list) or len(urls) > 3:
                raise Invalid("tracking_urls", f"{event} must be a list of at most 3 URLs")
            for url in urls:
                _http_url("tracking_urls", url if isinstance(url, str) else "")


def check_creative(*, objective: str, creative_type: str, pin: Pin, values: Mapping[str, Any]) -> None:
    rules.check_creative_type(objective, creative_type)
    if creative_type in VIDEO_CREATIVES and not pin.is_video:
        raise ValidationFailed("pin_id", f"creative type {creative_type} needs a video pin")
    if creative_type not in VIDEO_CREATIVES and pin.is_video:
        raise ValidationFailed("creative_type", f"{creative_type} cannot promote a video pin")
    slots = len(pin.carousel or [])
    if creative_type in CAROUSEL_CREATIVES and slots < 2:
        raise ValidationFailed("pin_id", f"creative type {creative_type} needs a carousel pin")
    for name in ("carousel_destination_urls", "carousel_android_deep_links", "carousel_ios_deep_links"):
        urls = values.get(name)
        if urls:
            if creative_type not in CAROUSEL_CREATIVES:
                raise ValidationFailed(name, "is only for carousel creatives")
            if len(urls) != slots:
                raise ValidationFailed(name, f"must have one entry per carousel slot ({slots})")


def derive_creative(objective: str, pin: Pin) -> str:
    """The first creative type of the objective that fits the pin."""
    for ctype in rules.creative_types_for(objective):
        if ctype in VIDEO_CREATIVES:
            if pin.is_video:
                return ctype
        elif ctype in CAROUSEL_CREATIVES:
            if len(pin.carousel or []) >= 2:
                return ctype
        elif not pin.is_video:
            return ctype
    kind = "an image" if pin.is_video else "a video"
    raise ValidationFailed("pin_id", f"a {objective} campaign needs {kind} pin")
