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
from pinapi.store.tables.ads import AdGroup, Campaign
from pinapi.store.tables.base import Base, UtcDateTime, id_column
from pinapi.store.tables.billing import AdCredit, Bill, BillingProfile, OrderLine, Preview
from pinapi.store.tables.clock import ClockState
from pinapi.store.tables.facts import (
    ClearingPriceHour,
    ConversionEvent,
    DeliveryBreakdown,
    DeliveryDimensionValue,
    DeliveryHour,
    EngineBilledDay,
    EngineCheckpoint,
    EngineLease,
    OrganicPinHour,
)
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
from pinapi.store.tables.promotions import PinPromotion
from pinapi.store.tables.reports import AsyncReport
from pinapi.store.tables.scheduled_reports import BatchEntitiesJob, ScheduledReport, ScheduledReportExecution

__all__ = [
    "AdCredit",
    "AdGroup",
    "Advertiser",
    "AdvertiserMember",
    "AggregatedPinData",
    "App",
    "AppRedirectUri",
    "AsyncReport",
    "AuthCode",
    "Base",
    "BatchEntitiesJob",
    "Bill",
    "BillingProfile",
    "Board",
    "BoardCollaborator",
    "BoardFollow",
    "BoardSection",
    "Campaign",
    "ClearingPriceHour",
    "ClockState",
    "Comment",
    "ConversionEvent",
    "DeliveryBreakdown",
    "DeliveryDimensionValue",
    "DeliveryHour",
    "EngineBilledDay",
    "EngineCheckpoint",
    "EngineLease",
    "Grant",
    "Image",
    "Job",
    "OrderLine",
    "OrganicPinHour",
    "Pin",
    "PinPromotion",
    "Preview",
    "ScheduledReport",
    "ScheduledReportExecution",
    "Token",
    "User",
    "UserFollow",
    "UtcDateTime",
    "id_column",
]
