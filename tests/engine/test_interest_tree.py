"""Child interests of the ads interest tree reach the pinners of their top-level branch."""

from __future__ import annotations

from pinapi.domain.ads import targeting as ads_targeting
from pinapi.engine.loader import ads_dimensions
from pinapi.engine.population import build_population
from pinapi.engine.targeting import HashedAudienceMatcher, segment_share


def test_every_tree_node_folds_onto_a_top_level_interest() -> None:
    dims = ads_dimensions()
    top = {i.id for i in dims.interests}
    tree = ads_targeting.interests()
    for node in tree.values():
        if node.level == 1:
            assert node.id in top and node.id not in dims.interest_parents
        else:
            root = dims.interest_parents[node.id]
            assert root in top and tree[root].level == 1


def test_a_child_interest_reaches_its_branch_and_nobody_else() -> None:
    pop = build_population(ads_dimensions(), 20_000, seed=3)
    audiences = HashedAudienceMatcher()
    tree = ads_targeting.interests()
    child = next(n for n in tree.values() if n.level == 3)
    root = ads_dimensions().interest_parents[child.id]
    reach_child = (segment_share(pop, {"INTEREST": [child.id]}, audiences) * pop.members).sum()
    reach_root = (segment_share(pop, {"INTEREST": [root]}, audiences) * pop.members).sum()
    assert reach_child > 0
    assert reach_child == reach_root
    other = next(n.id for n in tree.values() if n.level == 1 and n.id != root)
    both = segment_share(pop, {"INTEREST": [child.id, other]}, audiences)
    assert (both * pop.members).sum() >= reach_child
