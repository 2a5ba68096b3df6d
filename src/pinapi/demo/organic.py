"""The demo dataset's organic content: pinners who follow each other, public, protected and
secret boards with sections, pins with images drawn locally by Pillow, repins and comments.

Everything goes through the organic domain functions, so counters and aggregated pin data
are what the API itself would leave. Drawing is seeded per pin, so two loads give the same
pictures and the same text; only ids and the clock differ.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from pinapi.domain.access import scopes, users
from pinapi.domain.access.principal import Principal
from pinapi.domain.organic import boards, comments, follows, pins, sections
from pinapi.runtime import Runtime
from pinapi.store.tables import Board, BoardCollaborator, Pin, User

SEED = 20261102
PASSWORD = "pinapi-demo"
ALL_SCOPES = scopes.expand(scopes.GRANULAR)


@dataclass(frozen=True, slots=True)
class BoardPlan:
    owner: str
    name: str
    privacy: str
    category: str | None
    description: str
    # section title ("" = no section) -> pin titles
    pins: dict[str, tuple[str, ...]]


NEW_USERS = (
    ("maria_bakes", "Maria Baker", "Home baker. Bread, cakes and weeknight food.", False),
    ("tom_travels", "Tom Traveller", "Slow travel, trains and good coffee.", False),
    ("studio_nord", "Studio Nord", "Scandinavian interior design studio.", True),
)

FOLLOWS = (
    ("pinner", "demo"),
    ("pinner", "maria_bakes"),
    ("pinner", "tom_travels"),
    ("maria_bakes", "pinner"),
    ("maria_bakes", "studio_nord"),
    ("tom_travels", "maria_bakes"),
    ("tom_travels", "pinner"),
    ("analyst", "demo"),
    ("demo", "maria_bakes"),
    ("studio_nord", "demo"),
)

BOARDS = (
    BoardPlan(
        "maria_bakes",
        "Weeknight Dinners",
        "public",
        "food_drink",
        "Quick dinners for busy evenings",
        {
            "Pasta": ("Lemon garlic spaghetti", "Creamy mushroom pasta bake"),
            "Soups": ("Roasted tomato soup", "Spicy lentil soup"),
            "": ("One pan chicken and vegetables",),
        },
    ),
    BoardPlan(
        "maria_bakes",
        "Baking",
        "public",
        "food_drink",
        "Bread, cakes and everything from the oven",
        {
            "Bread": ("Overnight sourdough loaf", "Soft sandwich bread"),
            "Cakes": ("Chocolate layer cake", "Lemon drizzle cake"),
        },
    ),
    BoardPlan(
        "maria_bakes",
        "Holiday Menu",
        "secret",
        "holidays_events",
        "Ideas for December",
        {"": ("Gingerbread house plan",)},
    ),
    BoardPlan(
        "maria_bakes",
        "Client Drafts",
        "protected",
        None,
        "Recipes waiting for review",
        {"": ("Cardamom buns draft",)},
    ),
    BoardPlan(
        "tom_travels",
        "Japan Trip",
        "public",
        "travel",
        "Two weeks by train through Japan",
        {
            "Tokyo": ("Quiet coffee shops in Tokyo", "Tokyo neighbourhood walk"),
            "Kyoto": ("Kyoto temple morning route",),
            "": ("Japan rail pass tips",),
        },
    ),
    BoardPlan(
        "tom_travels",
        "Packing Lists",
        "public",
        "travel",
        "Carry-on only",
        {"": ("Ten day carry on packing list",)},
    ),
    BoardPlan("tom_travels", "Dream Trips", "secret", "travel", "Someday", {"": ("Northern lights cabin",)}),
    BoardPlan(
        "studio_nord",
        "Scandinavian Interiors",
        "public",
        "home_decor",
        "Light, wood and calm rooms",
        {
            "Living Room": ("Oak shelving and linen sofa", "Minimal reading corner"),
            "Kitchen": ("White kitchen with oak details",),
        },
    ),
    BoardPlan(
        "demo",
        "Product Launches",
        "public",
        "products",
        "What we shipped this year",
        {"": ("Spring collection launch", "Autumn lookbook")},
    ),
    BoardPlan(
        "demo",
        "Brand Assets",
        "protected",
        None,
        "Logos and colours for partners",
        {"": ("Brand colour palette",)},
    ),
    BoardPlan(
        "demo", "Upcoming Campaign", "secret", None, "Not public yet", {"": ("Holiday campaign moodboard",)}
    ),
    BoardPlan("pinner", "Saved Ideas", "public", "other", "Things I want to try", {}),
)

# (who saves, title of the pin saved) onto the saver's first public board
REPINS = (
    ("pinner", "Chocolate layer cake"),
    ("pinner", "Quiet coffee shops in Tokyo"),
    ("pinner", "Minimal reading corner"),
    ("tom_travels", "Overnight sourdough loaf"),
    ("demo", "Oak shelving and linen sofa"),
)

# (author, title of the commented pin, text, replies as (author, text))
COMMENTS = (
    (
        "pinner",
        "Chocolate layer cake",
        "Made this for a birthday, it was perfect!",
        (("maria_bakes", "So glad it worked!"),),
    ),
    (
        "tom_travels",
        "Chocolate layer cake",
        "How long does it keep?",
        (("maria_bakes", "Three days in the fridge."),),
    ),
    ("maria_bakes", "Quiet coffee shops in Tokyo", "Saving this for my trip", ()),
    (
        "demo",
        "Oak shelving and linen sofa",
        "Lovely light in this room.",
        (("studio_nord", "Thank you!"), ("pinner", "Agreed.")),
    ),
)


def draw_image(seed: int) -> bytes:
    """A deterministic picture: a two-colour gradient with a few soft shapes, as PNG."""
    rng = random.Random(seed)
    width = 600
    height = rng.choice((600, 750, 800, 900))
    top = tuple(rng.randrange(40, 230) for _ in range(3))
    bottom = tuple(rng.randrange(40, 230) for _ in range(3))
    img = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / (height - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    for _ in range(rng.randrange(3, 7)):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(30, 160)
        fill = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, app_id=0, scopes=ALL_SCOPES)


async def load(runtime: Runtime, session: AsyncSession) -> None:
    """Create the organic demo content (after ``access.load`` made demo, analyst, pinner)."""
    clock = runtime.clock
    people: dict[str, User] = {}
    for name in ("demo", "analyst", "pinner"):
        people[name] = await users.get_by_username(session, name)
    for name, full, about, business in NEW_USERS:
        people[name] = await users.create_user(
            session,
            clock=clock,
            username=name,
            password=PASSWORD,
            full_name=full,
            about=about,
            is_business=business,
        )
    for follower, followee in FOLLOWS:
        await follows.follow(
            session, clock=clock, follower_id=people[follower].id, followee_id=people[followee].id
        )

    fetcher = pins.Fetcher(data_dir=runtime.settings.data_dir, allow=[])
    by_title: dict[str, Pin] = {}
    first_board: dict[str, Board] = {}
    made: dict[str, Board] = {}
    seed = SEED
    for plan in BOARDS:
        owner = _principal(people[plan.owner])
        board, _ = await boards.create_board(
            session,
            now=clock.now(),
            principal=owner,
            fields=boards.BoardFields(
                name=plan.name, description=plan.description, category=plan.category, privacy=plan.privacy
            ),
            initial_pins=[],
        )
        made[plan.name] = board
        if plan.privacy == "public":
            first_board.setdefault(plan.owner, board)
        for title, pin_titles in plan.pins.items():
            section_id = None
            if title:
                section = await sections.create_section(
                    session, now=clock.now(), principal=owner, board_id=board.id, title=title, initial_pins=[]
                )
                section_id = section.id
            for pin_title in pin_titles:
                seed += 1
                view = await pins.create_pin(
                    session,
                    now=clock.now(),
                    principal=owner,
                    fetcher=fetcher,
                    board_id=board.id,
                    section_id=section_id,
                    fields=pins.PinFields(
                        title=pin_title,
                        description=f"{pin_title}. From the board {plan.name}.",
                        alt_text=f"Illustration for {pin_title.lower()}",
                        link=f"https://example.com/{plan.owner}/{seed}",
                    ),
                    image=pins.ImageInput(data=draw_image(seed)),
                )
                by_title[pin_title] = view.pin

    for saver, title in REPINS:
        await pins.save_pin(
            session,
            now=clock.now(),
            principal=_principal(people[saver]),
            pin_id=by_title[title].id,
            board_id=first_board[saver].id,
        )

    for author, title, text, replies in COMMENTS:
        agg = by_title[title].aggregated_pin_data_id
        assert agg is not None
        top = await comments.add_comment(
            session, clock=clock, principal=_principal(people[author]), agg_id=agg, text=text
        )
        for who, reply in replies:
            await comments.add_comment(
                session,
                clock=clock,
                principal=_principal(people[who]),
                agg_id=agg,
                text=reply,
                parent_id=top.comment.id,
            )

    # A group board (Tom helps with dinners) and board follows.
    dinners = made["Weeknight Dinners"]
    session.add(
        BoardCollaborator(board_id=dinners.id, user_id=people["tom_travels"].id, created_at=clock.now())
    )
    await session.execute(
        update(Board).where(Board.id == dinners.id).values(collaborator_count=Board.collaborator_count + 1)
    )
    for follower, board_name in (
        ("pinner", "Japan Trip"),
        ("analyst", "Baking"),
        ("demo", "Scandinavian Interiors"),
    ):
        await boards.follow_board(
            session, now=clock.now(), principal=_principal(people[follower]), board=made[board_name]
        )
    await session.flush()
