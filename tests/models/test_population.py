import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.models.population import Population

triples = st.lists(st.tuples(st.integers(1_600_000_000, 1_800_000_000),
                             st.integers(0, 300), st.integers(0, 10**8)), max_size=60)


@given(triples, triples)
def test_statistics_of_two_partitions_merge_into_those_of_the_whole(a: list, b: list) -> None:
    left, right, whole = Population(), Population(), Population()
    for t in a:
        left.add(t)
        whole.add(t)
    for t in b:
        right.add(t)
        whole.add(t)
    merged = left.merged([right])
    assert (merged.n, merged.sum_last, merged.sum_f, merged.sum_m) == (
        whole.n, whole.sum_last, whole.sum_f, whole.sum_m)
    assert np.array_equal(merged.h_m, whole.h_m)
    assert np.array_equal(merged.h_last, whole.h_last)


@given(triples)
def test_serialized_statistics_are_identical(a: list) -> None:
    pop = Population()
    for t in a:
        pop.add(t)
    back = Population.from_bytes(pop.to_bytes())
    assert back.n == pop.n and np.array_equal(back.h_f, pop.h_f)


def test_replace_removes_the_old_contribution() -> None:
    pop = Population()
    pop.add([1_700_000_000, 3, 5000])
    pop.replace([1_700_000_000, 3, 5000], [1_700_100_000, 4, 7000])
    assert (pop.n, pop.sum_f, pop.sum_m) == (1, 4, 7000)
    assert pop.h_f.sum() == 1


def test_tiers_follow_the_2_18_30_50_shares() -> None:
    pop = Population()
    spends = [int(1000 * 1.01**i) for i in range(1000)]  # 10.00 to about 200,000.00
    for i, m in enumerate(spends):
        pop.add([1_700_000_000 + i, 1, m])
    view = pop.view()
    ranks = [view.tier_rank(m) for m in spends]
    shares = [ranks.count(r) / len(ranks) for r in range(4)]
    assert abs(shares[0] - 0.02) < 0.02
    assert abs(shares[1] - 0.18) < 0.03
    assert abs(shares[2] - 0.30) < 0.03
    assert abs(shares[3] - 0.50) < 0.03


def test_quintile_scores_rank_customers_and_split_ties() -> None:
    pop = Population()
    for f in range(1, 101):
        pop.add([1_700_000_000, f, 100])
    view = pop.view()
    assert view.score("f", 1) == 1
    assert view.score("f", 50) == 3
    assert view.score("f", 100) == 5
    assert view.score("m", 100) == 3  # everyone ties on M: the middle score


@given(triples)
def test_sparse_statistics_are_identical(a: list) -> None:
    pop = Population()
    for t in a:
        pop.add(t)
    back = Population.from_sparse([pop.n, pop.sum_last, pop.sum_f, pop.sum_m], pop.sparse())
    assert back.n == pop.n and back.sum_last == pop.sum_last
    for mine, theirs in ((back.h_last, pop.h_last), (back.h_f, pop.h_f), (back.h_m, pop.h_m)):
        assert np.array_equal(mine, theirs)
