"""How a search word's share of the messages is estimated, which decides how a search is run."""

from __future__ import annotations

import pytest

from crm_appservice.store.search import broad_share


def test_broad_share_multiplies_the_words_and_sums_a_prefixs_lexemes() -> None:
    lexemes, shares = ["sofas", "sofa", "chairs"], [0.3, 0.2, 0.5]
    assert broad_share(["sofa"], lexemes, shares) == pytest.approx(0.5)
    assert broad_share(["sofa", "chair"], lexemes, shares) == pytest.approx(0.25)
    assert broad_share(["table"], lexemes, shares) == 0.0
    assert broad_share(["s"], ["sa", "sb", "sc"], [0.6, 0.6, 0.6]) == 1.0
