"""``read_pin``, the one-statement reader path of GET /v3/pins/{pin}/, against ``get_pin``.

The reader path must answer exactly like the session path: the same wire body for every
kind of pin, and the same privacy decision for every caller (not found, code 50, otherwise).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image as PILImage

from pinapi.api.v3.organic_shapes import pin_body
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import boards as board_lib
from pinapi.domain.organic import pins as pin_lib
from pinapi.domain.organic.visibility import PinNotFound
from pinapi.runtime import Runtime
from pinapi.store.tables import BoardCollaborator, User
from tests.factories import Factory

BASE = "http://pinapi.test"
SECRET_PINS = frozenset({"read_pins", "read_secret_pins"})
PLAIN = frozenset({"read_pins"})


def png_b64(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> str:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def who(user: User | None, scopes: frozenset[str] = SECRET_PINS) -> Principal:
    """A caller: a user acting through app 1, or a client-authorized app when ``user`` is None."""
    return Principal(user_id=None if user is None else user.id, app_id=1, scopes=scopes)


async def board(runtime: Runtime, owner: User, name: str, privacy: str = "public") -> int:
    async with runtime.sessions() as s, s.begin():
        made, _ = await board_lib.create_board(
            s,
            now=runtime.clock.now(),
            principal=who(owner),
            fields=board_lib.BoardFields(name=name, privacy=privacy),
            initial_pins=[],
        )
        return made.id


async def pin(
    runtime: Runtime,
    owner: User,
    board_id: int,
    *,
    image: pin_lib.ImageInput | None = None,
    carousel: list[pin_lib.CarouselSlot] | None = None,
) -> int:
    async with runtime.sessions() as s, s.begin():
        view = await pin_lib.create_pin(
            s,
            now=runtime.clock.now(),
            principal=who(owner),
            fetcher=pin_lib.Fetcher(data_dir=runtime.settings.data_dir, allow=[]),
            board_id=board_id,
            section_id=None,
            fields=pin_lib.PinFields(
                title="Soup", description="Hot", alt_text="a bowl", link="https://e.com/a"
            ),
            image=image or pin_lib.ImageInput(base64=png_b64((200, 30, 30))),
            carousel=carousel,
        )
        return view.pin.id


async def both(runtime: Runtime, principal: Principal, pin_id: int) -> tuple[Any, Any]:
    """(reader result, session result): a wire body, or the exception each path raised."""
    out: list[Any] = []
    try:
        view = await pin_lib.read_pin(runtime.reader, principal=principal, pin_id=pin_id)
        out.append(body(view, principal))
    except PinNotFound as exc:
        out.append(exc)
    async with runtime.sessions() as s:
        try:
            view = await pin_lib.get_pin(s, principal=principal, pin_id=pin_id)
            out.append(body(view, principal))
        except PinNotFound as exc:
            out.append(exc)
    return out[0], out[1]


def body(view: pin_lib.PinView, principal: Principal) -> dict[str, Any]:
    return pin_body(
        view.pin,
        view.image,
        view.board,
        base_url=BASE,
        viewer_user_id=principal.user_id,
        public_only=principal.is_client,
        carousel_images=view.carousel_images,
    )


async def test_bodies_match_the_session_path(runtime: Runtime, factory: Factory) -> None:
    owner, other = await factory.user(), await factory.user()
    b = await board(runtime, owner, "Soups")
    stored = await pin(runtime, owner, b)
    kept_url = await pin(runtime, owner, b, image=pin_lib.ImageInput(url="https://cdn.example.com/x.png"))
    slots = [
        pin_lib.CarouselSlot(image=pin_lib.ImageInput(base64=png_b64((0, 0, 250))), title="one"),
        pin_lib.CarouselSlot(image=pin_lib.ImageInput(url="https://cdn.example.com/y.png"), title="two"),
    ]
    carousel = await pin(runtime, owner, b, carousel=slots)
    for pin_id in (stored, kept_url, carousel):
        for principal in (who(owner), who(other, PLAIN), who(None, PLAIN)):
            fast, slow = await both(runtime, principal, pin_id)
            assert isinstance(fast, dict)
            assert fast == slow
    fast, _ = await both(runtime, who(owner), stored)
    assert fast["access"] == ["write", "delete"]
    assert fast["pinned_to_board"] == {"id": str(b), "name": "Soups", "type": "board"}
    assert fast["image_large_url"].startswith(f"{BASE}/media/images/")
    assert fast["image_large_size_pixels"] == {"width": 300, "height": 200}
    fast, _ = await both(runtime, who(owner), kept_url)
    assert fast["image_medium_url"] == "https://cdn.example.com/x.png"
    fast, _ = await both(runtime, who(None, PLAIN), carousel)
    assert "board" not in fast and "owner" not in fast
    first, second = fast["carousel_data"]["carousel_slots"]
    assert first["images"]["large"]["width"] == 300
    assert second["images"]["large"] == {
        "url": "https://cdn.example.com/y.png",
        "width": None,
        "height": None,
    }


@pytest.mark.parametrize(
    ("privacy", "caller", "scopes", "seen"),
    [
        ("protected", "owner", PLAIN, True),
        ("protected", "collaborator", PLAIN, True),
        ("protected", "stranger", SECRET_PINS, False),
        ("protected", "client", SECRET_PINS, False),
        ("secret", "owner", PLAIN, False),
        ("secret", "owner", SECRET_PINS, True),
        ("secret", "owner", frozenset({"read_pins", "read_secret_boards"}), False),
        ("secret", "collaborator", PLAIN, False),
        ("secret", "collaborator", SECRET_PINS, True),
        ("secret", "stranger", SECRET_PINS, False),
        ("secret", "client", SECRET_PINS, False),
    ],
)
async def test_privacy_matches_the_session_path(
    runtime: Runtime, factory: Factory, privacy: str, caller: str, scopes: frozenset[str], seen: bool
) -> None:
    owner, collaborator, stranger = await factory.user(), await factory.user(), await factory.user()
    b = await board(runtime, owner, "Private", privacy)
    async with runtime.sessions() as s, s.begin():
        s.add(BoardCollaborator(board_id=b, user_id=collaborator.id, created_at=runtime.clock.now()))
    pin_id = await pin(runtime, owner, b)
    users = {"owner": owner, "collaborator": collaborator, "stranger": stranger, "client": None}
    fast, slow = await both(runtime, who(users[caller], scopes), pin_id)
    if seen:
        assert isinstance(fast, dict) and fast == slow
        assert fast["id"] == str(pin_id)
    else:
        assert isinstance(fast, PinNotFound) and isinstance(slow, PinNotFound)
        assert fast.code == 50


async def test_missing_pin_is_not_found(runtime: Runtime, factory: Factory) -> None:
    owner = await factory.user()
    b = await board(runtime, owner, "Soups")
    pin_id = await pin(runtime, owner, b)
    with pytest.raises(PinNotFound) as caught:
        await pin_lib.read_pin(runtime.reader, principal=who(owner), pin_id=pin_id + 1)
    assert caught.value.code == 50
