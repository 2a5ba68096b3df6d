"""The metric catalogue: every metric pinapi can compute from the engine's fact rows.

Each metric is a formula over *bases*: the integer columns of the delivery fact tables
(``impression_1``, ``spend_in_micro_dollar``...) and the conversion sums per touch type and
event (``c:CLICK:CHECKOUT`` counts, ``v:...`` values in micro-currency, ``q:...``
quantities). A metric is either a sum of bases (additive: every level and every day bucket
adds up exactly) or ``scale * sum(numerator) / sum(denominator)`` computed on the summed
bases of one report row, so a rate is never an average of rates.

Names are the v3 ones (contract section 5.4) plus the v5 ``ReportingColumnAsync`` names whose
meaning the facts support. Families the engine does not produce (in-app, offline, web
sessions, cross-device, unique users, idea pins, showcase, earned video) are not listed, so
asking for them is refused rather than answered with invented zeros.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pinapi.domain.errors import Invalid

EVENTS = ("PAGE_VISIT", "VIEW_CATEGORY", "SIGNUP", "LEAD", "ADD_TO_CART", "CHECKOUT")
"""The conversion events the engine produces (``engine.conversions.EVENTS``)."""
TOUCHES = ("CLICK", "ENGAGEMENT", "VIEW")
_EVENT_WORDS = {
    "PAGE_VISIT": "page visit",
    "VIEW_CATEGORY": "view category",
    "SIGNUP": "signup",
    "LEAD": "lead",
    "ADD_TO_CART": "add to cart",
    "CHECKOUT": "checkout",
}
_TOUCH_WORDS = {
    "CLICK": "an outbound click",
    "ENGAGEMENT": "an engagement (closeup, save or pin click)",
    "VIEW": "a view without engagement",
}


@dataclass(frozen=True, slots=True)
class Formula:
    """``sum(num)`` when ``den`` is empty (times ``scale``), else ``scale * sum(num) / sum(den)``
    with 0.0 when the denominator is 0."""

    num: tuple[str, ...]
    den: tuple[str, ...] = ()
    scale: float = 1.0

    @property
    def additive(self) -> bool:
        """An integer sum of bases: adds up exactly across rows, entities and days."""
        return not self.den and self.scale == 1.0

    def bases(self) -> tuple[str, ...]:
        return self.num + self.den


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    definition: str
    display_name: str | None
    conversion: bool
    """Computed from conversion events (not allowed at HOUR granularity)."""
    realtime: bool
    """Available with data_source=REALTIME."""
    formula: Formula = field(default=Formula(()), repr=False)

    @property
    def additive(self) -> bool:
        return self.formula.additive


_ALL: dict[str, Metric] = {}


def _add(
    name: str,
    definition: str,
    display: str | None,
    num: Iterable[str],
    den: Iterable[str] = (),
    scale: float = 1.0,
) -> None:
    num, den = tuple(num), tuple(den)
    conversion = any(b[1:2] == ":" for b in num + den)
    assert name not in _ALL, name
    _ALL[name] = Metric(
        name=name,
        definition=definition,
        display_name=display,
        conversion=conversion,
        realtime=not conversion,
        formula=Formula(num, den, scale),
    )


SPEND = "spend_in_micro_dollar"
IMPRESSIONS = ("impression_1", "impression_2")
CLICKS = ("clickthrough_1", "clickthrough_2")
ENGAGEMENTS = ("engagement_1", "engagement_2")
SAVES = ("save_1", "save_2")


def _c(kind: str, touches: Iterable[str] = TOUCHES, events: Iterable[str] = EVENTS) -> tuple[str, ...]:
    events = tuple(events)
    return tuple(f"{kind}:{t}:{e}" for t in touches for e in events)


# --- delivery counts ------------------------------------------------------------------
_add(
    "IMPRESSION_1", "Paid impressions: times a promoted pin was shown.", "Paid impressions", ["impression_1"]
)
_add(
    "IMPRESSION_2",
    "Earned impressions: times the promoted pin was shown organically after a pinner saved it.",
    "Earned impressions",
    ["impression_2"],
)
_add(
    "PAID_IMPRESSION", "Paid impressions (the v5 name of IMPRESSION_1).", "Paid impressions", ["impression_1"]
)
_add("TOTAL_IMPRESSION", "Paid and earned impressions.", "Total impressions", IMPRESSIONS)
_add(
    "IMPRESSION_1_GROSS",
    "Paid impressions before invalid-traffic filtering; the engine serves no invalid traffic, "
    "so this equals IMPRESSION_1.",
    "Gross impressions",
    ["impression_1"],
)
_add(
    "CLICKTHROUGH_1",
    "Paid pin clicks: clicks on the promoted pin that lead to its destination or closeup.",
    "Pin clicks",
    ["clickthrough_1"],
)
_add(
    "CLICKTHROUGH_2",
    "Earned pin clicks on the organic impressions of the promoted pin.",
    "Earned pin clicks",
    ["clickthrough_2"],
)
_add("TOTAL_CLICKTHROUGH", "Paid and earned pin clicks.", "Total pin clicks", CLICKS)
_add(
    "CLICKTHROUGH_1_GROSS",
    "Paid pin clicks before invalid-traffic filtering; the engine serves no invalid traffic, "
    "so this equals CLICKTHROUGH_1.",
    "Gross pin clicks",
    ["clickthrough_1"],
)
_add(
    "OUTBOUND_CLICK_1",
    "Paid outbound clicks: clicks that took the pinner to the destination URL.",
    "Outbound clicks",
    ["outbound_click_1"],
)
_add(
    "OUTBOUND_CLICK_2",
    "Earned outbound clicks on the organic impressions of the promoted pin.",
    "Earned outbound clicks",
    ["outbound_click_2"],
)
_add("REPIN_1", "Paid saves: times a pinner saved the promoted pin to a board.", "Saves", ["save_1"])
_add("REPIN_2", "Earned saves of the promoted pin after its paid saves.", "Earned saves", ["save_2"])
_add(
    "ENGAGEMENT_1",
    "Paid engagements: closeups, saves and pin clicks on the promoted pin.",
    "Engagements",
    ["engagement_1"],
)
_add(
    "ENGAGEMENT_2",
    "Earned engagements on the organic impressions of the promoted pin.",
    "Earned engagements",
    ["engagement_2"],
)
_add("TOTAL_ENGAGEMENT", "Paid and earned engagements.", "Total engagements", ENGAGEMENTS)
_add("CLOSEUP_1", "Paid closeups: times a pinner opened the promoted pin.", "Pin closeups", ["closeup_1"])
_add("CLOSEUP_2", "Earned closeups of the promoted pin.", "Earned pin closeups", ["closeup_2"])
_add(
    "SPEND_IN_MICRO_DOLLAR",
    "Amount spent, in micro-units of the advertiser's currency.",
    "Spend",
    [SPEND],
)
_add(
    "SPEND_IN_DOLLAR",
    "Amount spent, in units of the advertiser's currency.",
    "Spend",
    [SPEND],
    scale=1e-6,
)

# --- rates (from the row's summed counts) --------------------------------------------
_add("CTR", "Paid pin clicks divided by paid impressions.", "CTR", ["clickthrough_1"], ["impression_1"])
_add(
    "CTR_2",
    "Earned pin clicks divided by earned impressions.",
    "Earned CTR",
    ["clickthrough_2"],
    ["impression_2"],
)
_add(
    "ECTR",
    "Paid and earned pin clicks divided by paid and earned impressions.",
    "Effective CTR",
    CLICKS,
    IMPRESSIONS,
)
_add(
    "OUTBOUND_CTR",
    "Paid outbound clicks divided by paid impressions.",
    "Outbound CTR",
    ["outbound_click_1"],
    ["impression_1"],
)
_add(
    "OUTBOUND_CTR_1",
    "Paid outbound clicks divided by paid impressions.",
    "Outbound CTR",
    ["outbound_click_1"],
    ["impression_1"],
)
_add(
    "ENGAGEMENT_RATE",
    "Paid engagements divided by paid impressions.",
    "Engagement rate",
    ["engagement_1"],
    ["impression_1"],
)
_add(
    "EENGAGEMENT_RATE",
    "Paid and earned engagements divided by paid and earned impressions.",
    "Effective engagement rate",
    ENGAGEMENTS,
    IMPRESSIONS,
)
_add("REPIN_RATE", "Paid saves divided by paid impressions.", "Save rate", ["save_1"], ["impression_1"])
_add(
    "TOTAL_REPIN_RATE",
    "Paid and earned saves divided by paid and earned impressions.",
    "Total save rate",
    SAVES,
    IMPRESSIONS,
)

# --- costs ---------------------------------------------------------------------------
_add(
    "CPC_IN_MICRO_DOLLAR",
    "Spend divided by paid pin clicks, in micro-currency.",
    "CPC",
    [SPEND],
    ["clickthrough_1"],
)
_add(
    "ECPC_IN_MICRO_DOLLAR",
    "Spend divided by paid and earned pin clicks, in micro-currency.",
    "Effective CPC",
    [SPEND],
    CLICKS,
)
_add(
    "ECPC_IN_DOLLAR",
    "Spend divided by paid and earned pin clicks, in currency units.",
    "Effective CPC",
    [SPEND],
    CLICKS,
    1e-6,
)
_add(
    "CPM_IN_MICRO_DOLLAR",
    "Spend per thousand paid impressions, in micro-currency.",
    "CPM",
    [SPEND],
    ["impression_1"],
    1000.0,
)
_add(
    "CPM_IN_DOLLAR",
    "Spend per thousand paid impressions, in currency units.",
    "CPM",
    [SPEND],
    ["impression_1"],
    1e-3,
)
_add(
    "ECPM_IN_MICRO_DOLLAR",
    "Spend per thousand paid and earned impressions, in micro-currency.",
    "Effective CPM",
    [SPEND],
    IMPRESSIONS,
    1000.0,
)
_add(
    "COST_PER_OUTBOUND_CLICK",
    "Spend divided by paid outbound clicks, in micro-currency.",
    "Cost per outbound click",
    [SPEND],
    ["outbound_click_1"],
)
_add(
    "COST_PER_OUTBOUND_CLICK_IN_DOLLAR",
    "Spend divided by paid outbound clicks, in currency units.",
    "Cost per outbound click",
    [SPEND],
    ["outbound_click_1"],
    1e-6,
)
_add(
    "COST_PER_OUTBOUND_CLICK_IN_DOLLAR_1",
    "Spend divided by paid outbound clicks, in currency units.",
    "Cost per outbound click",
    [SPEND],
    ["outbound_click_1"],
    1e-6,
)
_add(
    "ECPE_IN_DOLLAR",
    "Spend divided by paid and earned engagements, in currency units.",
    "Effective cost per engagement",
    [SPEND],
    ENGAGEMENTS,
    1e-6,
)

# --- video ---------------------------------------------------------------------------
_add(
    "VIDEO_START_1",
    "Paid video starts: times a promoted video began to play.",
    "Video starts",
    ["video_start_1"],
)
_add(
    "VIDEO_P0_COMBINED_1",
    "Paid video starts (the video reached 0% of its length).",
    "Video starts",
    ["video_start_1"],
)
_add(
    "VIDEO_2S_VIEW_1",
    "Paid video views of at least 2 continuous seconds.",
    "2-second video views",
    ["video_2s_view_1"],
)
_add(
    "VIDEO_10S_VIEW_1",
    "Paid video views of at least 10 seconds.",
    "10-second video views",
    ["video_10s_view_1"],
)
_add(
    "VIDEO_MRC_VIEWS_1",
    "Paid video views with at least half the player in view for 2 continuous seconds (MRC standard).",
    "Video views",
    ["video_mrc_views_1"],
)
for _p in (25, 50, 75, 95):
    _add(
        f"VIDEO_P{_p}_COMBINED_1",
        f"Paid video views that reached {_p}% of the video's length.",
        f"Video played to {_p}%",
        [f"video_p{_p}_combined_1"],
    )
_add(
    "VIDEO_P100_COMPLETE_1",
    "Paid video views that reached the end of the video.",
    "Video played to 100%",
    ["video_p100_combined_1"],
)
_add(
    "VIDEO_WATCH_TIME_IN_MILLISECOND_1",
    "Total time paid video plays were watched, in milliseconds.",
    "Video watch time",
    ["video_watch_time_ms_1"],
)
_add(
    "VIDEO_V50_WATCH_TIME_IN_MILLISECOND_1",
    "Total time paid video plays were watched with at least half the player in view, in milliseconds.",
    "Video V50 watch time",
    ["video_sum_v50_watchtime_in_millisecond_1"],
)
_add(
    "VIDEO_AVG_WATCHTIME_IN_SECOND_1",
    "Paid video watch time divided by paid video starts, in seconds.",
    "Average video watch time",
    ["video_watch_time_ms_1"],
    ["video_start_1"],
    1e-3,
)
_add(
    "PAID_VIDEO_VIEWABLE_RATE",
    "Paid MRC video views divided by paid impressions.",
    "Video view rate",
    ["video_mrc_views_1"],
    ["impression_1"],
)
_add(
    "CPV_IN_MICRO_DOLLAR",
    "Spend divided by paid MRC video views, in micro-currency.",
    "Cost per video view",
    [SPEND],
    ["video_mrc_views_1"],
)
_add(
    "ECPV_IN_DOLLAR",
    "Spend divided by paid MRC video views, in currency units.",
    "Cost per video view",
    [SPEND],
    ["video_mrc_views_1"],
    1e-6,
)
_add(
    "CPCV_IN_MICRO_DOLLAR",
    "Spend divided by paid video views that reached 100%, in micro-currency.",
    "Cost per completed view",
    [SPEND],
    ["video_p100_combined_1"],
)
_add(
    "ECPCV_IN_DOLLAR",
    "Spend divided by paid video views that reached 100%, in currency units.",
    "Cost per completed view",
    [SPEND],
    ["video_p100_combined_1"],
    1e-6,
)
_add(
    "CPCV_P95_IN_MICRO_DOLLAR",
    "Spend divided by paid video views that reached 95%, in micro-currency.",
    "Cost per 95% view",
    [SPEND],
    ["video_p95_combined_1"],
)
_add(
    "ECPCV_P95_IN_DOLLAR",
    "Spend divided by paid video views that reached 95%, in currency units.",
    "Cost per 95% view",
    [SPEND],
    ["video_p95_combined_1"],
    1e-6,
)

# --- conversions ---------------------------------------------------------------------
_add(
    "TOTAL_CONVERSIONS",
    "Conversion events of every type attributed to the ads within the attribution windows.",
    "Total conversions",
    _c("c"),
)
_add(
    "TOTAL_CONVERSIONS_QUANTITY",
    "Items in the attributed conversion events of every type.",
    "Total conversion quantity",
    _c("q"),
)
_add(
    "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR",
    "Order value of the attributed conversion events, in micro-currency.",
    "Total conversion value",
    _c("v"),
)
for _e in EVENTS:
    _w = _EVENT_WORDS[_e]
    _label = _w.capitalize()
    _add(
        f"TOTAL_{_e}",
        f"Attributed {_w} conversion events after any touch.",
        f"Conversions ({_label})",
        _c("c", events=[_e]),
    )
    _add(
        f"TOTAL_{_e}_VALUE_IN_MICRO_DOLLAR",
        f"Order value of the attributed {_w} events after any touch, in micro-currency.",
        f"Conversion value ({_label})",
        _c("v", events=[_e]),
    )
    _add(
        f"TOTAL_{_e}_QUANTITY",
        f"Items in the attributed {_w} events after any touch.",
        f"Conversion quantity ({_label})",
        _c("q", events=[_e]),
    )
    for _t in TOUCHES:
        _tl = _t.capitalize()
        _add(
            f"TOTAL_{_t}_{_e}",
            f"Attributed {_w} events after {_TOUCH_WORDS[_t]}.",
            f"{_label} ({_tl})",
            _c("c", [_t], [_e]),
        )
        _add(
            f"TOTAL_{_t}_{_e}_VALUE_IN_MICRO_DOLLAR",
            f"Order value of the attributed {_w} events after {_TOUCH_WORDS[_t]}, in micro-currency.",
            f"{_label} value ({_tl})",
            _c("v", [_t], [_e]),
        )
        _add(
            f"TOTAL_{_t}_{_e}_QUANTITY",
            f"Items in the attributed {_w} events after {_TOUCH_WORDS[_t]}.",
            f"{_label} quantity ({_tl})",
            _c("q", [_t], [_e]),
        )
    _add(
        f"{_e}_COST_PER_ACTION",
        f"Spend divided by attributed {_w} events, in micro-currency.",
        f"CPA ({_label})",
        [SPEND],
        _c("c", events=[_e]),
    )
    _add(
        f"{_e}_ROAS",
        f"Order value of the attributed {_w} events divided by spend.",
        f"ROAS ({_label})",
        _c("v", events=[_e]),
        [SPEND],
    )
    _add(
        f"TOTAL_{_e}_CONVERSION_RATE",
        f"Attributed {_w} events divided by paid pin clicks.",
        f"Conversion rate ({_label})",
        _c("c", events=[_e]),
        ["clickthrough_1"],
    )


CATALOG: Mapping[str, Metric] = dict(_ALL)
"""Every metric pinapi can compute, in a stable order (delivery, rates, costs, video,
conversions)."""

DEFAULT_METRICS: tuple[str, ...] = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "CLICKTHROUGH_1",
    "OUTBOUND_CLICK_1",
    "REPIN_1",
    "CLOSEUP_1",
    "ENGAGEMENT_1",
    "CTR",
    "CPC_IN_MICRO_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
)
"""What a report without metrics returns: the paid delivery counts, spend and the three rates
every dashboard shows; no conversion metric, so the default also works at HOUR granularity."""


def resolve(names: Iterable[str] | str | None, *, field: str = "metrics") -> tuple[str, ...]:
    """Catalogue names for a request's metric list, in the order asked, without repeats.

    ``None`` or an empty list gives ``DEFAULT_METRICS``; ``ALL`` (anywhere in the list) gives
    the whole catalogue; comma strings and lists of comma strings are both read; names are
    case-insensitive. An unknown name fails naming it."""
    if names is None:
        return DEFAULT_METRICS
    items = [names] if isinstance(names, str) else list(names)
    out: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise Invalid(field, "must be a list of metric names")
        for part in item.split(","):
            name = part.strip().upper()
            if not name:
                continue
            if name == "ALL":
                return tuple(CATALOG)
            if name not in CATALOG:
                raise Invalid(field, f"unknown metric: {part.strip()}")
            out[name] = None
    return tuple(out) or DEFAULT_METRICS


def bases_of(names: Iterable[str]) -> tuple[str, ...]:
    """The bases the metrics need, each once, in first-use order."""
    out: dict[str, None] = {}
    for name in names:
        for b in CATALOG[name].formula.bases():
            out[b] = None
    return tuple(out)
