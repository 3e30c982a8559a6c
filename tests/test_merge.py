"""The rule behind the edit conflict view (domain/merge.py), alone: the three-way merge of a
form's fields and the word diff that marks what differs — nothing of either text dropped."""

from __future__ import annotations

from efa_tui.domain.merge import Piece, merge, word_diff

COLLEAGUE = "Online-Antrag für Wohngeld. Neu: Antragstellung auch mit BundID-Konto möglich."
MINE = "Online-Antrag für Wohngeld mit Bescheid als PDF."
BASE = "Online-Antrag für Wohngeld."


def joined(pieces: list[Piece]) -> str:
    return "".join(p.text for p in pieces)


def marked_words(pieces: list[Piece]) -> list[str]:
    return [p.text for p in pieces if p.differs]


def test_word_diff_keeps_both_texts_whole_and_marks_the_differing_words():
    mine, theirs = word_diff(MINE, COLLEAGUE)
    assert joined(mine) == MINE and joined(theirs) == COLLEAGUE  # nothing cut, nothing lost
    assert "Bescheid als PDF." in marked_words(mine)
    assert any("BundID-Konto möglich." in words for words in marked_words(theirs))
    assert all("Online-Antrag" not in words for words in marked_words(mine) + marked_words(theirs))
    assert not mine[0].differs and mine[0].text == "Online-Antrag für "  # the same words: unmarked


def test_word_diff_marks_words_not_spaces():
    mine, theirs = word_diff("seit 2020 stabil", "seit  2021 sehr\nstabil")
    assert marked_words(mine) == ["2020"]
    assert marked_words(theirs) == ["2021 sehr"]  # the spaces around it are not marked
    assert joined(theirs) == "seit  2021 sehr\nstabil"


def test_word_diff_of_an_empty_side():
    mine, theirs = word_diff("", "Neu")
    assert mine == [] and theirs == [Piece("Neu", True)]
    same_mine, same_theirs = word_diff("gleich", "gleich")
    assert same_mine == same_theirs == [Piece("gleich", False)]


def test_merge_settles_one_sided_changes_and_names_only_real_clashes():
    base = {"title": "A", "summary": "S", "description": BASE, "fee": "1200", "phone": "1"}
    mine = {**base, "title": "A neu", "description": MINE, "fee": "1.200,00", "phone": "2"}
    theirs = {**base, "summary": "S neu", "description": COLLEAGUE, "phone": "2"}

    def same(name, a, b):
        return (a.replace(".", "").replace(",00", "") == b.replace(".", "").replace(",00", "")) if name == "fee" else a == b

    result = merge(base, mine, theirs, list(base), same)
    assert result.clashes == ["description"]  # both changed it, differently
    assert result.merged["title"] == "A neu"  # only mine
    assert result.merged["summary"] == "S neu" and result.theirs_kept == ["summary"]  # only theirs
    assert result.merged["phone"] == "2"  # both, to the same value: no clash
    assert "fee" not in result.clashes  # the same amount written two ways
