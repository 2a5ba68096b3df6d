"""Small pure rules of boards and pins."""

from __future__ import annotations

import pytest

from pinapi.domain.errors import Invalid
from pinapi.domain.organic.boards import slugify
from pinapi.domain.organic.pins import PinFields, check_fields, domain_of


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Summer Recipes", "summer-recipes"),
        ("  Crème brûlée!! ", "creme-brulee"),
        ("日本", "board"),
        ("a/b\\c", "a-b-c"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_domain_of_link() -> None:
    assert domain_of("https://M.Imgur.com/gallery/x") == "m.imgur.com"
    assert domain_of(None) is None


def test_check_fields_names_the_bad_field() -> None:
    assert check_fields(PinFields(link=" https://a.example/x ")).link == "https://a.example/x"
    for fields, name in (
        (PinFields(title="t" * 101), "title"),
        (PinFields(description="d" * 501), "description"),
        (PinFields(alt_text="a" * 501), "alt_text"),
        (PinFields(link="mailto:x@y"), "source_url"),
    ):
        with pytest.raises(Invalid) as err:
            check_fields(fields)
        assert err.value.field == name
