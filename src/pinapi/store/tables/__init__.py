"""The relational schema, one module per area; importing the package registers every table.

Each resource area adds its own module here and a migration of its own.
"""

from pinapi.store.tables.access import (
    Advertiser,
    AdvertiserMember,
    App,
    AppRedirectUri,
    AuthCode,
    Grant,
    Token,
    User,
)
from pinapi.store.tables.base import Base, UtcDateTime, id_column
from pinapi.store.tables.clock import ClockState
from pinapi.store.tables.jobs import Job
from pinapi.store.tables.organic import (
    AggregatedPinData,
    Board,
    BoardCollaborator,
    BoardFollow,
    BoardSection,
    Comment,
    Image,
    Pin,
    UserFollow,
)

__all__ = [
    "Advertiser",
    "AdvertiserMember",
    "AggregatedPinData",
    "App",
    "AppRedirectUri",
    "AuthCode",
    "Base",
    "Board",
    "BoardCollaborator",
    "BoardFollow",
    "BoardSection",
    "ClockState",
    "Comment",
    "Grant",
    "Image",
    "Job",
    "Pin",
    "Token",
    "User",
    "UserFollow",
    "UtcDateTime",
    "id_column",
]
