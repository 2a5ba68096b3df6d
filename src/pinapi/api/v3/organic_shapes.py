"""Wire shapes of organic objects: pins, boards, board infos and sections.

Pure functions of rows, shared by every organic route (boards, pins, users' lists, search),
so one object looks the same wherever it appears. Field names and shapes follow the captured
v3 responses (``v3-samples/PinsTest-get.json``, ``BoardsTest-*.json``); where those only show
strings for booleans and counts (the docs' examples), real JSON types are sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from pinapi.api.common.formats import v3_time
from pinapi.domain.reporting.organic import StatsWindow
from pinapi.store.tables import Board, BoardSection, Image, Pin, User

# v3 name of an image size -> our variant name. Points are what the captured responses show:
# half the pixels for square and medium, the pixels themselves for large.
PIN_IMAGE_SIZES = (("square", 2), ("medium", 2), ("large", 1))


def image_url(image: Image, variant: str, *, base_url: str) -> str:
    """pinapi's own address of one stored variant of ``image``."""
    path = image.variants[variant]["path"]
    return f"{base_url}/media/images/{path}"


def _image_fields(image: Image | None, given_url: str | None, *, base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, scale in PIN_IMAGE_SIZES:
        if image is not None and name in image.variants:
            v = image.variants[name]
            w, h = int(v["width"]), int(v["height"])
            body[f"image_{name}_url"] = image_url(image, name, base_url=base_url)
            body[f"image_{name}_size_pixels"] = {"width": w, "height": h}
            body[f"image_{name}_size_points"] = {"width": w // scale, "height": h // scale}
        else:
            # An image kept as given (never fetched): its address, sizes unknown.
            body[f"image_{name}_url"] = given_url
            body[f"image_{name}_size_pixels"] = {"width": None, "height": None}
            body[f"image_{name}_size_points"] = {"width": None, "height": None}
    return body


def pin_body(
    pin: Pin,
    image: Image | None,
    board: Board | None,
    *,
    base_url: str,
    viewer_user_id: int | None,
    public_only: bool = False,
    carousel_images: Sequence[Image | None] = (),
) -> dict[str, Any]:
    """A pin as GET /v3/pins/{pin}/ and every pin list return it.

    ``public_only`` (client-authorized callers) leaves out where the pin is saved and who
    saved it from where. ``carousel_images`` are the slot images of a carousel pin, in order.
    """
    body: dict[str, Any] = {
        "id": str(pin.id),
        "type": "story" if pin.native_format_type == "STORY_PIN" else "pin",
        "title": pin.title,
        "description": pin.description,
        "link": pin.link,
        "domain": pin.domain or "Uploaded by user",
        "dominant_color": pin.dominant_color,
        "created_at": v3_time(pin.created_at),
        "repin_count": pin.repin_count,
        "comment_count": pin.comment_count,
        "is_repin": pin.is_repin,
        "is_video": pin.is_video,
        "video_signature": None,
        "native_format_type": pin.native_format_type,
        "story_type": pin.story_type,
        "shareable_url": f"{base_url}/pin/{pin.id}/",
        "rich_metadata": {"id": pin.link or ""},
        "alt_text": pin.alt_text,
    }
    body.update(_image_fields(image, pin.image_url, base_url=base_url))
    if pin.carousel:
        body["carousel_data"] = _carousel(pin, carousel_images, base_url=base_url)
    if public_only:
        return body
    body["board"] = {"id": str(pin.board_id)}
    body["board_section_id"] = str(pin.section_id) if pin.section_id is not None else None
    body["parent_pin"] = {"id": str(pin.parent_pin_id)} if pin.parent_pin_id is not None else None
    body["pinned_to_board"] = (
        {"id": str(board.id), "name": board.name, "type": "board"} if board is not None else None
    )
    body["aggregated_pin_data"] = (
        {"id": str(pin.aggregated_pin_data_id)} if pin.aggregated_pin_data_id is not None else None
    )
    body["owner"] = {"id": str(pin.owner_id)}
    if viewer_user_id is not None and viewer_user_id == pin.owner_id:
        body["access"] = ["write", "delete"]
    return body


def pin_stats_body(windows: Sequence[StatsWindow] | None) -> dict[str, Any] | None:
    """``pin_stats`` (InfluencerPinStats, ``type: root``): one PinStats object per window."""
    if windows is None:
        return None
    body: dict[str, Any] = {"type": "root"}
    for w in windows:
        body[w.name] = {"last_updated": w.last_updated.strftime("%a, %d %B %Y %H:%M:%S +0000"), **w.values}
    return body


def _carousel(pin: Pin, images: Sequence[Image | None], *, base_url: str) -> dict[str, Any]:
    slots: list[dict[str, Any]] = []
    for i, slot in enumerate(pin.carousel or []):
        img = images[i] if i < len(images) else None
        fields = _image_fields(img, slot.get("image_url"), base_url=base_url)
        slots.append(
            {
                "id": f"{pin.id}-{i}",
                "title": slot.get("title", ""),
                "details": slot.get("description", ""),
                "link": slot.get("link"),
                "images": {
                    name: {"url": fields[f"image_{name}_url"], **fields[f"image_{name}_size_pixels"]}
                    for name, _ in PIN_IMAGE_SIZES
                },
            }
        )
    return {"id": str(pin.id), "index": "0", "carousel_slots": slots}


def board_url(board: Board, owner_username: str) -> str:
    """The board's relative address, ``/username/slug/``, as v3 gives it."""
    return f"/{quote(owner_username)}/{quote(board.slug)}/"


def board_info_body(
    board: Board,
    owner: User,
    *,
    base_url: str,
    viewer_user_id: int | None,
    followed_by_me: bool = False,
    collaborated_by_me: bool = False,
    thumbnail_url: str | None = None,
) -> dict[str, Any]:
    """A board as list items show it (BoardInfo)."""
    return {
        "id": str(board.id),
        "name": board.name,
        "url": board_url(board, owner.username),
        "category": board.category,
        "layout": board.layout,
        "created_at": v3_time(board.created_at),
        "board_order_modified_at": v3_time(board.board_order_modified_at),
        "image_thumbnail_url": thumbnail_url,
        "is_collaborative": board.collaborator_count > 0,
        "collaborated_by_me": collaborated_by_me
        and viewer_user_id is not None
        and viewer_user_id != board.owner_id,
        "followed_by_me": followed_by_me,
        "privacy": board.privacy,
        "pin_count": board.pin_count,
        "type": "board",
    }


def board_body(
    board: Board,
    owner: User,
    *,
    base_url: str,
    viewer_user_id: int | None,
    followed_by_me: bool = False,
    collaborated_by_me: bool = False,
    cover_url: str | None = None,
    thumbnail_urls: Sequence[str] = (),
) -> dict[str, Any]:
    """A board as GET/PUT/POST /v3/boards/ return it (BoardOrganic)."""
    body = board_info_body(
        board,
        owner,
        base_url=base_url,
        viewer_user_id=viewer_user_id,
        followed_by_me=followed_by_me,
        collaborated_by_me=collaborated_by_me,
        thumbnail_url=cover_url,
    )
    is_owner = viewer_user_id is not None and viewer_user_id == board.owner_id
    body.update(
        {
            "description": board.description,
            "follower_count": board.follower_count,
            "collaborator_count": board.collaborator_count,
            "section_count": board.section_count,
            "owner": {"id": str(board.owner_id)},
            "cover": cover_url,
            "image_cover_url": cover_url,
            "image_cover_hd_url": cover_url,
            "image_thumbnail_urls": list(thumbnail_urls),
            "pin_thumbnail_urls": list(thumbnail_urls),
            "access": ["access", "write"] if is_owner or collaborated_by_me else [],
            "archived": board.archived,
            "event_date": None,
            "event_start_date": None,
            "collaborator_invites_enabled": is_owner,
            "ideas_url": f"{board_url(board, owner.username)}more_ideas/",
            "board_activity_count": 0,
            "should_show_board_activity": False,
            "allow_homefeed_recommendations": board.privacy == "public",
        }
    )
    return body


def section_body(section: BoardSection) -> dict[str, Any]:
    """A board section (BoardSection)."""
    return {
        "id": str(section.id),
        "title": section.title,
        "pin_count": section.pin_count,
        "type": "board_section",
        "board": {"id": str(section.board_id)},
    }
