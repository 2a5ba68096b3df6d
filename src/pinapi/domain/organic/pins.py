"""Pins: create (from an upload, base64 or a URL, or a carousel), read, save (repin), delete.

Counters move in the transaction of the change, by ``UPDATE … SET n = n ± 1``: the owner's
``pin_count``, the board's and the section's ``pin_count``, and the ROOT pin's
``repin_count`` when a pin is saved. Every root pin owns an ``AggregatedPinData`` row that all
its repins share (comments hang off it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access.principal import Principal
from pinapi.domain.errors import Forbidden, Invalid, NotFound
from pinapi.domain.organic import images
from pinapi.domain.organic.visibility import (
    PUBLIC,
    SECRET_PINS_SCOPE,
    PinNotFound,
    board_visible,
    may_see,
    writable_board,
)
from pinapi.domain.reporting.organic import StatsWindow, parse_pin_stats, pin_stats_binds, pin_stats_column
from pinapi.store.db import Memo, Reader
from pinapi.store.tables import AggregatedPinData, Board, BoardCollaborator, BoardSection, Image, Pin, User

TITLE_MAX = 100
DESCRIPTION_MAX = 500
ALT_TEXT_MAX = 500
CAROUSEL_MIN, CAROUSEL_MAX = 2, 5


class SectionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Board section", code=2031, message="Board section not found")


@dataclass(frozen=True, slots=True)
class ImageInput:
    """One image as a client may send it: raw bytes, base64 text, or a URL."""

    data: bytes | None = None
    base64: str | None = None
    url: str | None = None
    field: str = "image"

    @property
    def given(self) -> bool:
        return bool(self.data) or bool(self.base64) or bool(self.url)


@dataclass(frozen=True, slots=True)
class PinFields:
    title: str = ""
    description: str = ""
    alt_text: str = ""
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Fetcher:
    """Where images may come from: the data dir and the fetch policy."""

    data_dir: Path
    allow: list[str]
    transport: httpx.AsyncBaseTransport | None = None


@dataclass(slots=True)
class CarouselSlot:
    image: ImageInput
    title: str = ""
    description: str = ""
    link: str | None = None
    signature: str | None = None


@dataclass(slots=True)
class PinView:
    """A pin with what its wire shape needs."""

    pin: Pin
    board: Board | None
    image: Image | None
    carousel_images: list[Image | None] = field(default_factory=list)
    stats: list[StatsWindow] | None = None
    """The owner's pin stats (``read_pin`` with a clock); None for anyone else."""
    memo_key: Hashable | None = None
    """Set by ``read_pin`` when the view came from one reader row: equal keys, equal views
    (the row and the stats hour), so a body built from this view may be kept under it."""


def check_fields(fields: PinFields) -> PinFields:
    if len(fields.title) > TITLE_MAX:
        raise Invalid("title", f"must be at most {TITLE_MAX} characters")
    if len(fields.description) > DESCRIPTION_MAX:
        raise Invalid("description", f"must be at most {DESCRIPTION_MAX} characters")
    if len(fields.alt_text) > ALT_TEXT_MAX:
        raise Invalid("alt_text", f"must be at most {ALT_TEXT_MAX} characters")
    link = images.check_url(fields.link, field="source_url") if fields.link else None
    return PinFields(fields.title, fields.description, fields.alt_text, link)


async def resolve_image(
    session: AsyncSession, *, fetcher: Fetcher, now: datetime, owner_id: int, given: ImageInput
) -> tuple[Image | None, str | None]:
    """The stored image for ``given``, or (None, url) for a URL pinapi may not fetch."""
    if given.data:
        data = given.data
        source = None
    elif given.base64:
        data = images.decode_base64(given.base64, field=given.field)
        source = None
    elif given.url:
        url = images.check_url(given.url, field=given.field)
        fetched = await images.fetch(url, allow=fetcher.allow, field=given.field, transport=fetcher.transport)
        if fetched is None:
            return None, url
        data, source = fetched, url
    else:
        raise Invalid(given.field, "is required: send image, image_base64 or image_url")
    image = await images.store_image(
        session,
        data_dir=fetcher.data_dir,
        now=now,
        owner_id=owner_id,
        data=data,
        source_url=source,
        field=given.field,
    )
    return image, source


async def section_of(session: AsyncSession, *, board_id: int, section_id: int | None) -> BoardSection | None:
    if section_id is None:
        return None
    section = await session.get(BoardSection, section_id)
    if section is None or section.board_id != board_id:
        raise SectionNotFound()
    return section


async def _count_in(session: AsyncSession, *, pin: Pin, delta: int) -> None:
    """Move the owner's, board's and section's pin counters by ``delta``."""
    await session.execute(
        update(User).where(User.id == pin.owner_id).values(pin_count=User.pin_count + delta)
    )
    await session.execute(
        update(Board).where(Board.id == pin.board_id).values(pin_count=Board.pin_count + delta)
    )
    if pin.section_id is not None:
        await session.execute(
            update(BoardSection)
            .where(BoardSection.id == pin.section_id)
            .values(pin_count=BoardSection.pin_count + delta)
        )


def domain_of(link: str | None) -> str | None:
    return (urlsplit(link).hostname or None) if link else None


async def _carousel_images(
    session: AsyncSession,
    *,
    principal: Principal,
    fetcher: Fetcher,
    now: datetime,
    slots: Sequence[CarouselSlot],
) -> list[tuple[CarouselSlot, Image | None, str | None]]:
    assert principal.user_id is not None
    out: list[tuple[CarouselSlot, Image | None, str | None]] = []
    for slot in slots:
        if slot.signature:
            found = await image_by_signature(session, owner_id=principal.user_id, signature=slot.signature)
            out.append((slot, found, None))
        else:
            image, url = await resolve_image(
                session, fetcher=fetcher, now=now, owner_id=principal.user_id, given=slot.image
            )
            out.append((slot, image, url))
    return out


async def create_pin(
    session: AsyncSession,
    *,
    now: datetime,
    principal: Principal,
    fetcher: Fetcher,
    board_id: int,
    section_id: int | None,
    fields: PinFields,
    image: ImageInput,
    carousel: Sequence[CarouselSlot] | None = None,
) -> PinView:
    """A new root pin on a board the caller may write, with its aggregated data row."""
    assert principal.user_id is not None
    fields = check_fields(fields)
    board = await writable_board(session, board_id=board_id, principal=principal)
    section = await section_of(session, board_id=board.id, section_id=section_id)
    slot_rows: list[tuple[CarouselSlot, Image | None, str | None]] = []
    if carousel is not None:
        if not CAROUSEL_MIN <= len(carousel) <= CAROUSEL_MAX:
            raise Invalid("carousel_data_json", "Carousel Pin must have between 2 and 5 images", code=2380)
        slot_rows = await _carousel_images(
            session, principal=principal, fetcher=fetcher, now=now, slots=carousel
        )
        stored, given_url = slot_rows[0][1], slot_rows[0][2]
    else:
        stored, given_url = await resolve_image(
            session, fetcher=fetcher, now=now, owner_id=principal.user_id, given=image
        )
    pin = Pin(
        owner_id=principal.user_id,
        board_id=board.id,
        section_id=section.id if section else None,
        title=fields.title,
        description=fields.description,
        alt_text=fields.alt_text,
        link=fields.link,
        domain=domain_of(fields.link),
        image_id=stored.id if stored else None,
        image_url=None if stored else given_url,
        dominant_color=stored.dominant_color if stored else None,
        native_format_type="CAROUSEL" if carousel is not None else "SINGLE_IMAGE",
        carousel=[
            {
                "image_id": img.id if img else None,
                "image_url": url,
                "title": slot.title,
                "description": slot.description,
                "link": slot.link,
            }
            for slot, img, url in slot_rows
        ]
        or None,
        is_repin=False,
        repin_count=0,
        comment_count=0,
        created_at=now,
    )
    session.add(pin)
    await session.flush()
    agg = AggregatedPinData(root_pin_id=pin.id, comment_count=0, save_count=0, created_at=now)
    session.add(agg)
    await session.flush()
    pin.aggregated_pin_data_id = agg.id
    await _count_in(session, pin=pin, delta=1)
    await session.flush()
    return PinView(pin, board, stored, [img for _, img, _ in slot_rows])


async def image_by_signature(session: AsyncSession, *, owner_id: int, signature: str) -> Image:
    """An image uploaded by ``owner_id`` through the carousel upload, by its signature."""
    sig = signature.strip().lower()
    if len(sig) != 32 or any(c not in "0123456789abcdef" for c in sig):
        raise Invalid("carousel_data_json", f"image_signature {signature!r} is not valid")
    found = await session.scalar(
        select(Image).where(Image.owner_id == owner_id, Image.sha256.startswith(sig)).limit(1)
    )
    if found is None:
        raise Invalid("carousel_data_json", f"no uploaded image has the signature {signature}")
    return found


def signature_of(image: Image) -> str:
    return image.sha256[:32]


async def get_pin(session: AsyncSession, *, principal: Principal, pin_id: int) -> PinView:
    """A pin the caller may see (one query for a public pin), else code 50."""
    row = (
        await session.execute(
            select(Pin, Board, Image)
            .join(Board, Board.id == Pin.board_id)
            .outerjoin(Image, Image.id == Pin.image_id)
            .where(Pin.id == pin_id)
        )
    ).first()
    if row is None:
        raise PinNotFound()
    pin, board, image = row
    if not await board_visible(session, board=board, principal=principal, secret_scope=SECRET_PINS_SCOPE):
        raise PinNotFound()
    return PinView(pin, board, image, await carousel_images(session, [pin]))


# ``read_pin``'s statements, built once at import (see ``Reader.first``): the pin's columns,
# then its image's variants, its board's name, privacy and owner, whether the caller
# (``uid``, NULL for client-authorized requests) collaborates on the board, and the pin
# stats when the caller owns the pin (``reporting.organic.pin_stats_column``).
_PIN_KEYS = tuple(attr.key for attr in Pin.__mapper__.column_attrs)
_READ_PIN = (
    select(
        *(getattr(Pin, key) for key in _PIN_KEYS),
        Image.variants,
        Board.name,
        Board.privacy,
        Board.owner_id,
        exists()
        .where(BoardCollaborator.board_id == Board.id, BoardCollaborator.user_id == bindparam("uid"))
        .label("is_collaborator"),
        pin_stats_column(Pin.id, Pin.owner_id, Pin.is_repin),
    )
    .join(Board, Board.id == Pin.board_id)
    .outerjoin(Image, Image.id == Pin.image_id)
    .where(Pin.id == bindparam("id"))
)
_Row = TypeVar("_Row", Pin, Board, Image)
_READ_SLOT_IMAGE = select(Image.variants).where(Image.id == bindparam("id"))


def _loaded(cls: type[_Row], values: dict[str, Any]) -> _Row:
    """A transient ``cls`` holding ``values``, made the way the ORM's own loader makes rows.

    The declarative constructor fires an attribute event per column (~100 µs for a pin,
    more than the query); a row built by the class manager and filled directly costs ~2 µs.
    Only ever read (by ``pin_body``), never added to a session.
    """
    obj: _Row = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def _json(value: Any) -> Any:
    """A JSON column's value: the reader's asyncpg pool hands JSON over as text (it has
    none of SQLAlchemy's connection codecs), SQLite's path already decoded it."""
    return json.loads(value) if isinstance(value, str) else value


_VIEWS = Memo()
"""``read_pin``'s views by (reader row, stats hour), with the row's visibility facts."""


async def read_pin(
    reader: Reader, *, principal: Principal, pin_id: int, now: datetime | None = None
) -> PinView:
    """``get_pin`` for read-only routes: the pin, its image, board and privacy in ONE read.

    ``GET /v3/pins/{pin}/`` is a hot path: it goes through the runtime's reader (no request
    session, no ORM identity map, no thread hop on SQLite) and applies the same rule as
    ``visibility.board_visible``, with membership (owner or collaborator) computed in the
    same statement. The rows become transient ORM objects, so ``pin_body`` shapes them
    exactly like session-loaded ones. Carousel pins (rare) read each slot's image after.
    With ``now``, the owner also gets the pin stats of the windows ending then, from the
    same statement.

    The statement runs on every call; when it returns a row equal to one seen before (same
    pin, image, board, membership and stats sums, same stats hour), the view built from that
    row is reused instead of converting and building it again (``store.db.Memo``). The
    visibility rule is still applied to every caller.
    """
    params: dict[str, Any] = {"id": pin_id, "uid": principal.user_id}
    with_stats = now is not None and principal.user_id is not None
    hour = None
    if with_stats:
        assert now is not None
        params.update(_stats_binds(now, reader))
        hour = params["s_hour"]
    row = await reader.first_row(_READ_PIN, params)
    if row is None:
        raise PinNotFound()
    key = None if row.key is None else (row.key, hour)
    kept = None if key is None else _VIEWS.get(key)
    if kept is not None:
        view, privacy, owner, collaborator = kept
        _check_visible(principal, privacy, owner, collaborator)
        return view  # type: ignore[no-any-return]
    values = row.values
    n = len(_PIN_KEYS)
    variants, board_name, privacy, owner, collaborator, raw_stats = values[n:]
    _check_visible(principal, privacy, owner, collaborator)
    columns = dict(zip(_PIN_KEYS, values[:n], strict=True))
    columns["carousel"] = _json(columns["carousel"])
    pin = _loaded(Pin, columns)
    board = _loaded(Board, {"id": pin.board_id, "name": board_name, "privacy": privacy, "owner_id": owner})
    image = None if variants is None else _loaded(Image, {"id": pin.image_id, "variants": _json(variants)})
    slots: list[Image | None] = []
    for slot in pin.carousel or []:
        found = None
        if slot.get("image_id") is not None:
            found = await reader.first(_READ_SLOT_IMAGE, {"id": slot["image_id"]})
        slot_image = {"id": slot.get("image_id"), "variants": _json(found[0])} if found else None
        slots.append(None if slot_image is None else _loaded(Image, slot_image))
    stats = parse_pin_stats(raw_stats, now) if with_stats and now is not None else None
    if pin.carousel:
        key = None  # its slot images come from other reads, which the row does not cover
    view = PinView(pin, board, image, slots, stats, key)
    if key is not None:
        _VIEWS.put(key, (view, privacy, owner, collaborator))
    return view


_HOUR = timedelta(hours=1)
_binds_kept: tuple[datetime, datetime, Reader | None, Mapping[str, Any]] = (
    datetime.max.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=UTC),
    None,
    {},
)


def _stats_binds(now: datetime, reader: Reader) -> Mapping[str, Any]:
    """``pin_stats_binds`` for ``now``, kept for the clock hour it falls in: a comparison
    per read instead of flooring the time and looking the hour up again."""
    global _binds_kept
    start, end, kept_for, binds = _binds_kept
    if kept_for is not reader or not start <= now < end:
        binds = pin_stats_binds(now, reader.engine.dialect)
        start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        _binds_kept = (start, start + _HOUR, reader, binds)
    return binds


def _check_visible(principal: Principal, privacy: str, owner: int, collaborator: Any) -> None:
    """``visibility.board_visible``'s rule on the facts ``_READ_PIN`` returns."""
    if privacy != PUBLIC:
        uid = principal.user_id
        member = uid is not None and (owner == uid or bool(collaborator))
        if not may_see(privacy, is_member=member, scopes=principal.scopes, secret_scope=SECRET_PINS_SCOPE):
            raise PinNotFound()


async def carousel_images(session: AsyncSession, pins: Sequence[Pin]) -> list[Image | None]:
    """The slot images of the first carousel pin among ``pins`` (none for single images)."""
    for pin in pins:
        if pin.carousel:
            ids = [s.get("image_id") for s in pin.carousel]
            wanted = [i for i in ids if i is not None]
            rows = {
                im.id: im for im in (await session.scalars(select(Image).where(Image.id.in_(wanted)))).all()
            }
            return [rows.get(i) if i is not None else None for i in ids]
    return []


async def views(session: AsyncSession, pins: Sequence[Pin]) -> list[PinView]:
    """Pins of a list with their images, in one extra query."""
    ids = {p.image_id for p in pins if p.image_id is not None}
    for p in pins:
        ids.update(s["image_id"] for s in p.carousel or [] if s.get("image_id") is not None)
    found: dict[int, Image] = {}
    if ids:
        found = {im.id: im for im in (await session.scalars(select(Image).where(Image.id.in_(ids)))).all()}
    out: list[PinView] = []
    for p in pins:
        slots = [
            found.get(s["image_id"]) if s.get("image_id") is not None else None for s in p.carousel or []
        ]
        out.append(PinView(p, None, found.get(p.image_id) if p.image_id is not None else None, slots))
    return out


async def save_pin(
    session: AsyncSession,
    *,
    now: datetime,
    principal: Principal,
    pin_id: int,
    board_id: int,
    section_id: int | None = None,
    description: str | None = None,
) -> PinView:
    """Repin ``pin_id`` onto ``board_id``: a new pin sharing the root's image and aggregated data."""
    assert principal.user_id is not None
    source = await get_pin(session, principal=principal, pin_id=pin_id)
    board = await writable_board(session, board_id=board_id, principal=principal)
    section = await section_of(session, board_id=board.id, section_id=section_id)
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise Invalid("description", f"must be at most {DESCRIPTION_MAX} characters")
    src = source.pin
    root_id = src.root_pin_id or src.id
    pin = Pin(
        owner_id=principal.user_id,
        board_id=board.id,
        section_id=section.id if section else None,
        title=src.title,
        description=src.description if description is None else description,
        alt_text=src.alt_text,
        link=src.link,
        domain=src.domain,
        image_id=src.image_id,
        image_url=src.image_url,
        dominant_color=src.dominant_color,
        native_format_type=src.native_format_type,
        story_type=src.story_type,
        is_video=src.is_video,
        carousel=src.carousel,
        is_repin=True,
        parent_pin_id=src.id,
        root_pin_id=root_id,
        aggregated_pin_data_id=src.aggregated_pin_data_id,
        repin_count=0,
        comment_count=0,
        created_at=now,
    )
    session.add(pin)
    await session.flush()
    await session.execute(update(Pin).where(Pin.id == root_id).values(repin_count=Pin.repin_count + 1))
    if src.aggregated_pin_data_id is not None:
        await session.execute(
            update(AggregatedPinData)
            .where(AggregatedPinData.id == src.aggregated_pin_data_id)
            .values(save_count=AggregatedPinData.save_count + 1)
        )
    await _count_in(session, pin=pin, delta=1)
    await session.flush()
    return PinView(pin, board, source.image, source.carousel_images)


async def delete_pin(session: AsyncSession, *, principal: Principal, pin_id: int) -> None:
    """Delete a pin its owner (or the board's owner) may delete, fixing every counter."""
    view = await get_pin(session, principal=principal, pin_id=pin_id)
    pin, board = view.pin, view.board
    assert board is not None
    if principal.user_id not in (pin.owner_id, board.owner_id):
        raise Forbidden("Only the pin's owner or the board's owner may delete it.")
    await remove_pins(session, pins=[pin])


async def remove_pins(session: AsyncSession, *, pins: Sequence[Pin]) -> None:
    """Delete ``pins`` with their counters; shared aggregated data goes with its last pin.

    Counter moves are grouped (one UPDATE per owner, board, section and root), so deleting a
    board of thousands of pins stays a handful of statements.
    """
    if not pins:
        return
    owners = Counter(p.owner_id for p in pins)
    boards = Counter(p.board_id for p in pins)
    sections = Counter(p.section_id for p in pins if p.section_id is not None)
    roots = Counter(p.root_pin_id for p in pins if p.is_repin and p.root_pin_id is not None)
    saves = Counter(p.aggregated_pin_data_id for p in pins if p.is_repin and p.aggregated_pin_data_id)
    ids = [p.id for p in pins]
    aggs = {p.aggregated_pin_data_id for p in pins if p.aggregated_pin_data_id is not None}
    await session.execute(delete(Pin).where(Pin.id.in_(ids)))
    for uid, n in owners.items():
        await session.execute(update(User).where(User.id == uid).values(pin_count=User.pin_count - n))
    for bid, n in boards.items():
        await session.execute(update(Board).where(Board.id == bid).values(pin_count=Board.pin_count - n))
    for sid, n in sections.items():
        await session.execute(
            update(BoardSection).where(BoardSection.id == sid).values(pin_count=BoardSection.pin_count - n)
        )
    for rid, n in roots.items():
        await session.execute(update(Pin).where(Pin.id == rid).values(repin_count=Pin.repin_count - n))
    for aid, n in saves.items():
        await session.execute(
            update(AggregatedPinData)
            .where(AggregatedPinData.id == aid)
            .values(save_count=AggregatedPinData.save_count - n)
        )
    if aggs:
        await session.execute(
            delete(AggregatedPinData).where(
                AggregatedPinData.id.in_(aggs),
                ~exists().where(Pin.aggregated_pin_data_id == AggregatedPinData.id),
            )
        )


def pin_list_filters(*, filter_stories: bool) -> list[Any]:
    return [Pin.native_format_type != "STORY_PIN"] if filter_stories else []
