"""Each review outcome, decided directly and through the reviewer job."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pinapi.domain.ads import review
from pinapi.domain.ads.review import ReviewPolicy, decide
from pinapi.domain.clock import FixedClock
from pinapi.store.tables import Pin, PinPromotion

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
POLICY = ReviewPolicy(blocked_domains=("blocked.example",))


def _pin(**fields: object) -> Pin:
    values: dict[str, object] = {
        "title": "Plaid shirt",
        "description": "Warm and soft",
        "link": "https://shop.example.com/plaid",
        "image_url": "https://img.example.com/p.jpg",
        "image_id": None,
        "carousel": None,
    }
    values.update(fields)
    return Pin(**values)


def _promo(**fields: object) -> PinPromotion:
    values: dict[str, object] = {"name": "Shirts", "destination_url": None}
    values.update(fields)
    return PinPromotion(**values)


@pytest.mark.parametrize(
    ("promo", "pin", "reasons"),
    [
        ({}, {}, ()),
        ({"destination_url": "https://www.example.org/x"}, {"link": None}, ()),
        ({}, {"link": None}, ("LANDING_PAGE",)),
        ({"destination_url": "   "}, {"link": ""}, ("LANDING_PAGE",)),
        ({"destination_url": "ftp://files.example.com/a"}, {}, ("LANDING_PAGE_BROKEN",)),
        ({"destination_url": "javascript:alert(1)"}, {}, ("LANDING_PAGE_BROKEN",)),
        ({"destination_url": "https://"}, {}, ("LANDING_PAGE_BROKEN",)),
        ({"destination_url": "https://blocked.example/buy"}, {}, ("UNACCEPTABLE_BUSINESS",)),
        ({}, {"link": "http://shop.BLOCKED.example./x"}, ("UNACCEPTABLE_BUSINESS",)),
        ({"destination_url": "https://notblocked.example/"}, {}, ()),
        ({"name": "Casino night"}, {}, ("PROHIBITED_PRODUCT",)),
        ({}, {"description": "A MIRACLE   cure for all"}, ("PROHIBITED_PRODUCT",)),
        ({}, {"title": "Gunsmoke western boots"}, ()),  # whole words only
        ({}, {"image_url": None}, ("IMAGE",)),
        ({}, {"image_url": None, "image_id": 7}, ()),
        ({}, {"image_url": None, "carousel": [{"image_url": "a"}, {"image_url": "b"}]}, ()),
        (
            {"destination_url": "mailto:x@y", "name": "replica watches"},
            {"image_url": None},
            ("LANDING_PAGE_BROKEN", "PROHIBITED_PRODUCT", "IMAGE"),
        ),
    ],
)
def test_decide(promo: dict[str, object], pin: dict[str, object], reasons: tuple[str, ...]) -> None:
    decision = decide(_promo(**promo), _pin(**pin), POLICY)
    assert decision.reasons == reasons
    assert decision.status == ("REJECTED" if reasons else "APPROVED")
    assert decision.labels == [review.LABELS[r] for r in reasons]


def test_deleted_pin_is_rejected() -> None:
    decision = decide(_promo(destination_url="https://a.example/"), None, POLICY)
    assert decision.reasons == ("IMAGE",)


def test_word_list_is_loaded_from_data() -> None:
    words = review.default_words()
    assert "counterfeit" in words and all(w == w.lower() and not w.startswith("#") for w in words)


class _Session:
    """Just enough of an AsyncSession for ``run_review``."""

    def __init__(self, promotion: PinPromotion, pin: Pin | None) -> None:
        self.rows: dict[type, object | None] = {PinPromotion: promotion, Pin: pin}

    async def get(self, model: type, ident: int) -> object | None:
        return self.rows.get(model)

    async def flush(self) -> None:
        return None


async def test_run_review_applies_and_ignores_stale_versions() -> None:
    promotion = _promo(id=1, pin_id=2, review_version=2, review_status="PENDING", destination_url="ftp://x")
    session = _Session(promotion, _pin())
    stale = await review.run_review(
        session,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        payload={"pin_promotion_id": 1, "version": 1, "blocked_domains": []},
    )
    assert stale == {"skipped": "stale"} and promotion.review_status == "PENDING"
    result = await review.run_review(
        session,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        payload={"pin_promotion_id": 1, "version": 2, "blocked_domains": []},
    )
    assert result == {"review_status": "REJECTED", "rejected_reasons": ["LANDING_PAGE_BROKEN"]}
    assert promotion.rejection_labels == [review.LABELS["LANDING_PAGE_BROKEN"]]
    assert promotion.reviewed_at == NOW
