"""The reports' shared vocabulary names every attack and cites it once."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pytest

from skprivacy._cli._demo import MEMBERSHIP_ATTACKS
from skprivacy.audit._attacks import ATTACKS, LABEL_ONLY_ATTACKS
from skprivacy.utils import _glossary as glossary


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_of_the_auditor_is_in_the_glossary(name):
    info = glossary.attack_info(name)
    assert info is not None, name
    attack = ATTACKS[name]()
    # The class name (what AuditReport.attack holds) finds the same entry.
    assert glossary.attack_info(type(attack).__name__) is info
    assert info.reads == ("labels" if name in LABEL_ONLY_ATTACKS else "probabilities")
    assert info.papers and info.describe().endswith(")")


@pytest.mark.parametrize("label", MEMBERSHIP_ATTACKS)
def test_the_command_lines_attack_labels_are_in_the_glossary(label):
    assert glossary.attack_info(label) is not None
    # A repeated attack in a combined report ("rmia#2") is still found.
    assert glossary.attack_info(f"{label}#2") is glossary.attack_info(label)


def test_references_cite_each_paper_once_and_unknown_attacks_are_skipped():
    cited = glossary.references(
        ["label_gap", "label_noise", "my own attack"], papers=[glossary.YEOM]
    )
    # The gap attack's two papers and the noise attack's (a repeat) once each.
    assert len(cited) == 2
    assert cited[0].startswith("S. Yeom") and "IEEE CSF 2018" in cited[0]
    assert "ICML 2021" in cited[1]
    assert glossary.attack_info("my own attack") is None
    page = glossary.glossary_html(glossary.terms("AUC"), ["my own attack", "loss"])
    assert "<dt>loss</dt>" in page and "my own attack" not in page
    assert "<dt>AUC</dt>" in page
    lines = glossary.glossary_text(glossary.terms("AUC"), ["loss"])
    assert lines[1].startswith("- loss: Calls a record a member")
    assert lines[-1] == "[1] " + glossary.YEOM.cite()


def test_terms_are_all_defined_and_named_in_order():
    assert [t for t, _ in glossary.terms()] == list(glossary.TERMS)
    with pytest.raises(KeyError):
        glossary.terms("not a term")
    assert glossary.CARLINI.short() == "Carlini et al. 2022"
    assert glossary.AERNI.short() == "Aerni et al. 2024"
    assert glossary.SONG_MITTAL.short() == "Song & Mittal 2021"
