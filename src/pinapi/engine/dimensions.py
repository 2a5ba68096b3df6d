"""The attribute tables a synthetic population is drawn from.

The engine never reads the database: the caller passes a ``Dimensions`` (built from the ads
targeting resources when they are there) or uses ``default_dimensions()``, a small built-in
table of real countries, ISO 3166-2 regions, two-letter locales, IANA time zones and the
v5 targeting values, so tests and a bare install still get a plausible world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

AGE_BUCKETS = ("18-24", "25-34", "35-44", "45-49", "50-54", "55-64", "65+")
GENDERS = ("female", "male", "unknown")
APP_TYPES = ("android_mobile", "android_tablet", "ipad", "iphone", "web", "web_mobile")
PLACEMENTS = ("BROWSE", "SEARCH", "OTHER")
"""Placement groups a slot belongs to: home feed/browse, search results, related pins/other."""


@dataclass(frozen=True, slots=True)
class Weighted:
    code: str
    weight: float


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    weight: float
    time_zone: str
    currency: str
    regions: tuple[Weighted, ...]
    locales: tuple[Weighted, ...]
    bid_floor_cpm_usd_micro: int = 1_000_000
    """Reserve price per 1,000 impressions, in USD micro; every bid is compared in USD."""


@dataclass(frozen=True, slots=True)
class Metro:
    """A US metro (Nielsen DMA code, as LOCATION targeting names it) as a share of one region.

    The population has no metro attribute (it would multiply the segments); a metro is the
    given share of its main state's pinners, metros of one state being disjoint."""

    code: str
    region: str
    share: float


@dataclass(frozen=True, slots=True)
class Interest:
    id: str
    name: str
    weight: float
    """Relative popularity; the population's mean interests per pinner is scaled to it."""


@dataclass(frozen=True, slots=True)
class Dimensions:
    countries: tuple[Country, ...]
    interests: tuple[Interest, ...]
    age_buckets: tuple[Weighted, ...] = tuple(
        Weighted(a, w) for a, w in zip(AGE_BUCKETS, (0.19, 0.27, 0.2, 0.1, 0.09, 0.1, 0.05), strict=True)
    )
    genders: tuple[Weighted, ...] = (Weighted("female", 0.6), Weighted("male", 0.3), Weighted("unknown", 0.1))
    app_types: tuple[Weighted, ...] = tuple(
        Weighted(a, w) for a, w in zip(APP_TYPES, (0.3, 0.03, 0.05, 0.32, 0.15, 0.15), strict=True)
    )
    interest_parents: Mapping[str, str] = field(default_factory=dict)
    """Child interest id -> the top-level interest id the population carries."""
    usd_per_unit: Mapping[str, float] = field(default_factory=dict)
    """Exchange rates used to compare bids across advertiser currencies (missing = 1.0)."""
    metros: tuple[Metro, ...] = ()
    """LOCATION metro codes and the share of their region's pinners they hold."""

    def country_index(self) -> dict[str, int]:
        return {c.code: i for i, c in enumerate(self.countries)}

    def usd_rate(self, currency: str) -> float:
        return float(self.usd_per_unit.get(currency, 1.0))


def _w(pairs: str) -> tuple[Weighted, ...]:
    out = []
    for part in pairs.split():
        code, weight = part.split(":")
        out.append(Weighted(code, float(weight)))
    return tuple(out)


_INTERESTS = (
    ("888035077694", "Animals", 0.6),
    ("924044013460", "Architecture", 0.3),
    ("698473301421", "Art", 0.5),
    ("567051613189", "Beauty", 1.0),
    ("299644828922", "Childrens fashion", 0.3),
    ("123902123219", "Design", 0.5),
    ("687796855478", "DIY and crafts", 0.9),
    ("109689827338", "Education", 0.4),
    ("476503462504", "Electronics", 0.3),
    ("727901924158", "Entertainment", 0.6),
    ("242692900571", "Event planning", 0.5),
    ("998685563679", "Finance", 0.2),
    ("283555907584", "Food and drinks", 1.2),
    ("366204726490", "Gardening", 0.5),
    ("170515748147", "Health", 0.6),
    ("823457644284", "Home decor", 1.2),
    ("551991086003", "Home improvement", 0.6),
    ("925131340577", "Mens fashion", 0.4),
    ("959246865031", "Parenting", 0.5),
    ("156091838356", "Quotes", 0.5),
    ("997751855695", "Sports", 0.4),
    ("242492016966", "Travel", 0.8),
    ("815673304629", "Vehicles", 0.3),
    ("712831049696", "Womens fashion", 1.1),
    ("984724879164", "Technology", 0.3),
    ("538996431752", "Business", 0.3),
)


_METROS = (
    # The LOCATION metros the ads resources list (Nielsen DMA codes), each as the rough share of
    # its main state's population that lives in the DMA (Census 2020 county totals).
    ("501", "US-NY", 0.64), ("803", "US-CA", 0.46), ("602", "US-IL", 0.75), ("504", "US-PA", 0.46),
    ("623", "US-TX", 0.28), ("807", "US-CA", 0.17), ("511", "US-VA", 0.45), ("618", "US-TX", 0.24),
    ("506", "US-MA", 0.86), ("524", "US-GA", 0.65), ("753", "US-AZ", 0.72), ("539", "US-FL", 0.22),
    ("819", "US-WA", 0.68), ("505", "US-MI", 0.46), ("613", "US-MN", 0.75), ("528", "US-FL", 0.19),
    ("751", "US-CO", 0.70), ("510", "US-OH", 0.31), ("534", "US-FL", 0.18), ("862", "US-CA", 0.09),
    ("820", "US-OR", 0.70), ("825", "US-CA", 0.08), ("641", "US-TX", 0.09), ("635", "US-TX", 0.08),
)  # fmt: skip


def default_dimensions() -> Dimensions:
    """A built-in world: the largest Pinterest markets with a handful of regions each.

    Country weights follow the rough split of Pinterest's audience (about a third in the US);
    regions are weighted by population. Floors are plausible round CPMs, not published values.
    """
    countries = (
        Country(
            "US",
            0.36,
            "America/New_York",
            "USD",
            _w(
                "US-CA:12 US-TX:9 US-FL:7 US-NY:6 US-IL:4 US-PA:4 US-OH:3.5 US-GA:3.3 US-WA:2.4 US-CO:1.8 "
                "US-MI:3.1 US-VA:2.7 US-AZ:2.3 US-MA:2.1 US-MN:1.8 US-OR:1.3"
            ),
            _w("en:0.87 es:0.13"),
            2_000_000,
        ),
        Country(
            "GB",
            0.07,
            "Europe/London",
            "GBP",
            _w("GB-ENG:56 GB-SCT:5.5 GB-WLS:3.1 GB-NIR:1.9"),
            _w("en:1"),
            1_500_000,
        ),
        Country(
            "DE",
            0.06,
            "Europe/Berlin",
            "EUR",
            _w("DE-NW:18 DE-BY:13 DE-BW:11 DE-BE:3.7 DE-HH:1.9"),
            _w("de:0.95 en:0.05"),
            1_500_000,
        ),
        Country(
            "FR",
            0.06,
            "Europe/Paris",
            "EUR",
            _w("FR-IDF:12 FR-ARA:8 FR-NAQ:6 FR-OCC:6 FR-PAC:5"),
            _w("fr:1"),
            1_200_000,
        ),
        Country(
            "CA",
            0.04,
            "America/Toronto",
            "CAD",
            _w("CA-ON:15 CA-QC:8.7 CA-BC:5.4 CA-AB:4.6"),
            _w("en:0.78 fr:0.22"),
            1_500_000,
        ),
        Country(
            "AU",
            0.03,
            "Australia/Sydney",
            "AUD",
            _w("AU-NSW:8.2 AU-VIC:6.7 AU-QLD:5.3 AU-WA:2.8"),
            _w("en:1"),
            1_500_000,
        ),
        Country("BR", 0.14, "America/Sao_Paulo", "BRL", (), _w("pt:1"), 400_000),
        Country("MX", 0.1, "America/Mexico_City", "MXN", (), _w("es:1"), 400_000),
        Country("JP", 0.04, "Asia/Tokyo", "JPY", (), _w("ja:1"), 1_000_000),
        Country("ES", 0.05, "Europe/Madrid", "EUR", (), _w("es:1"), 800_000),
        Country("IT", 0.05, "Europe/Rome", "EUR", (), _w("it:1"), 800_000),
    )
    return Dimensions(
        countries=countries,
        interests=tuple(Interest(i, n, w) for i, n, w in _INTERESTS),
        metros=tuple(Metro(code, region, share) for code, region, share in _METROS),
        usd_per_unit={
            "USD": 1.0, "GBP": 1.27, "EUR": 1.08, "CAD": 0.73, "AUD": 0.66,
            "BRL": 0.18, "MXN": 0.055, "JPY": 0.0067,
        },
    )  # fmt: skip
