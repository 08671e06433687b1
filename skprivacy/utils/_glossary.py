"""The vocabulary of every report: each attack, what it reads, its paper; each term.

The command line's report, :meth:`AuditReport.summary` and ``to_html`` and
:meth:`DPAuditReport.to_html` name attacks and define terms from here, so that
a reviewer reads one definition of "AUC" or "reads: votes" wherever it
appears. It lives in ``utils`` because both ``audit`` and the command line
read it.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    """A publication, cited as "authors, title, venue year"."""

    authors: str
    title: str
    venue: str
    year: int

    def cite(self) -> str:
        return f'{self.authors}, "{self.title}", {self.venue} {self.year}'

    def short(self) -> str:
        """ "Surname year", "A & B year" or "A et al. year"."""
        surnames = [a.split()[-1] for a in self.authors.split(", ")]
        if len(surnames) > 2:
            return f"{surnames[0]} et al. {self.year}"
        return f"{' & '.join(surnames)} {self.year}"


YEOM = Paper(
    "S. Yeom, I. Giacomelli, M. Fredrikson, S. Jha",
    "Privacy risk in machine learning: analyzing the connection to overfitting",
    "IEEE CSF",
    2018,
)
SHOKRI = Paper(
    "R. Shokri, M. Stronati, C. Song, V. Shmatikov",
    "Membership inference attacks against machine learning models",
    "IEEE S&P",
    2017,
)
SONG_MITTAL = Paper(
    "L. Song, P. Mittal",
    "Systematic evaluation of privacy risks of machine learning models",
    "USENIX Security",
    2021,
)
YE = Paper(
    "J. Ye, A. Maddi, S. K. Murakonda, V. Bindschaedler, R. Shokri",
    "Enhanced membership inference attacks against machine learning models",
    "ACM CCS",
    2022,
)
CARLINI = Paper(
    "N. Carlini, S. Chien, M. Nasr, S. Song, A. Terzis, F. Tramer",
    "Membership inference attacks from first principles",
    "IEEE S&P",
    2022,
)
ZARIFZADEH = Paper(
    "S. Zarifzadeh, P. Liu, S. Mahloujifar, R. Shokri",
    "Low-cost high-power membership inference attacks",
    "ICML",
    2024,
)
CHOQUETTE_CHOO = Paper(
    "C. A. Choquette-Choo, F. Tramer, N. Carlini, N. Papernot",
    "Label-only membership inference attacks",
    "ICML",
    2021,
)
JAYARAMAN = Paper(
    "B. Jayaraman, L. Wang, K. Knipmeyer, Q. Gu, D. Evans",
    "Revisiting membership inference under realistic assumptions",
    "PoPETs",
    2021,
)
BERTRAN = Paper(
    "M. Bertran, S. Tang, M. Kearns, J. Morgenstern, A. Roth, Z. S. Wu",
    "Scalable membership inference attacks via quantile regression",
    "NeurIPS",
    2023,
)
BRANNVALL = Paper(
    "R. Brannvall",
    "Exponential-family membership inference: from LiRA and RMIA to BaVarIA",
    "arXiv 2603.11799",
    2026,
)
AERNI = Paper(
    "M. Aerni, J. Zhang, F. Tramer",
    "Evaluations of machine learning privacy defenses are misleading",
    "ACM CCS",
    2024,
)
STEINKE = Paper(
    "T. Steinke, M. Nasr, M. Jagielski",
    "Privacy auditing with one (1) training run",
    "NeurIPS",
    2023,
)
JAGIELSKI = Paper(
    "M. Jagielski, J. Ullman, A. Oprea",
    "Auditing differentially private machine learning: how private is private SGD?",
    "NeurIPS",
    2020,
)
COHEN = Paper(
    "J. Cohen, E. Rosenfeld, J. Z. Kolter",
    "Certified adversarial robustness via randomized smoothing",
    "ICML",
    2019,
)
ZHAI = Paper(
    "R. Zhai, C. Dan, D. He, H. Zhang, B. Gong, P. Ravikumar, C.-J. Hsieh, L. Wang",
    "MACER: attack-free and scalable robust training via maximizing certified radius",
    "ICLR",
    2020,
)
FANG_KIM = Paper(
    "X. Fang, J.-E. Kim",
    "Center-based relaxed learning against membership inference attacks",
    "UAI",
    2024,
)


@dataclass(frozen=True)
class Attack:
    """A membership attack as the reports describe it.

    ``name`` is the class name of :mod:`skprivacy.audit`; ``aliases`` the
    other names it goes by (the auditor's strings, the command line's labels).
    """

    name: str
    aliases: tuple
    reads: str
    idea: str
    papers: tuple

    def describe(self) -> str:
        """One sentence: what the attack does, what it reads, who proposed it."""
        cited = "; ".join(paper.short() for paper in self.papers)
        return f"{self.idea} Reads: {self.reads}. ({cited})"


ATTACKS = (
    Attack(
        "LossAttack",
        ("loss",),
        "probabilities",
        "Calls a record a member when the model's loss on it is low: members "
        "were fitted, so their loss tends to be smaller.",
        (YEOM,),
    ),
    Attack(
        "EntropyAttack",
        ("mentr",),
        "probabilities",
        "mentr, the modified prediction entropy: low on confident, correct "
        "predictions, which members get more often; one threshold per class, "
        "set on reference models.",
        (SONG_MITTAL,),
    ),
    Attack(
        "LiRA",
        ("lira", "lira_offline"),
        "probabilities",
        "Likelihood-ratio attack: compares the model's confidence on a record "
        "with its distribution under reference models trained with and without "
        "that record.",
        (CARLINI,),
    ),
    Attack(
        "RMIA",
        ("rmia", "rmia_online"),
        "probabilities",
        "Robust membership inference: the model's probability of the record's "
        "class divided by its average over reference models, compared with the "
        "same ratio on population records.",
        (ZARIFZADEH,),
    ),
    Attack(
        "ReferenceAttack",
        ("reference",),
        "probabilities",
        "Attack-R: the model's loss on a record against the losses of reference "
        "models that did not train on it.",
        (YE,),
    ),
    Attack(
        "PopulationAttack",
        ("population",),
        "probabilities",
        "Attack-P: one loss threshold set on population records, which are "
        "non-members by construction.",
        (YE,),
    ),
    Attack(
        "ShadowModelAttack",
        ("shadow",),
        "probabilities",
        "A classifier trained to tell reference models' outputs on their "
        "training records from their outputs on other records.",
        (SHOKRI,),
    ),
    Attack(
        "BaVarIA",
        ("bavaria", "bavaria_offline"),
        "probabilities",
        "LiRA with Bayesian variance estimates, for few reference models.",
        (BRANNVALL,),
    ),
    Attack(
        "GapAttack",
        ("label_gap", "label gap"),
        "labels",
        "Calls every correctly classified record a member: its advantage is "
        "the gap between training and test accuracy.",
        (YEOM, CHOQUETTE_CHOO),
    ),
    Attack(
        "LabelNoiseAttack",
        ("label noise", "label_noise"),
        "labels",
        "Queries noisy copies of a record: members, farther from the decision "
        "boundary, keep their label under more of them.",
        (CHOQUETTE_CHOO,),
    ),
    Attack(
        "BoundaryDistanceAttack",
        ("label_boundary", "label boundary"),
        "labels",
        "Estimates each record's distance to the decision boundary from label "
        "queries along random directions: members lie farther from it.",
        (CHOQUETTE_CHOO,),
    ),
    Attack(
        "PerturbationAttack",
        ("perturbation", "perturbation_lrt"),
        "probabilities",
        "MERLIN: how much the confidence drops when the record is perturbed; "
        "members sit at minima of the loss.",
        (JAYARAMAN,),
    ),
    Attack(
        "QuantileRegressionAttack",
        ("quantile",),
        "probabilities",
        "A regression on non-member data predicts each record's score were it "
        "a non-member; a higher score flags a member. No reference models.",
        (BERTRAN,),
    ),
)


def attack_info(name: str) -> Attack | None:
    """The attack a report names (class name or alias, any case), or None."""
    key = str(name).split("#")[0].strip().lower()
    for attack in ATTACKS:
        if key == attack.name.lower() or key in attack.aliases:
            return attack
    return None


# Terms in the order a reviewer meets them; each defined once.
TERMS = {
    "member / non-member": (
        "A member is a record the model was trained on; a non-member one it "
        "never saw. The audit knows which is which and asks how well an attack "
        "without that knowledge can tell them apart."
    ),
    "population": (
        "Records from the same distribution that are neither audited nor "
        "trained on: they set the attacks' thresholds and train the reference "
        "models, so no membership label of the audited records is used to "
        "attack them."
    ),
    "reads: probabilities / labels / votes": (
        "What the attack queries: the model's class probabilities, only its "
        "predicted labels, or (smoothed models) the frequencies of the classes "
        "among its votes on noisy copies of the record, which is what a "
        "smoothed model releases in place of probabilities."
    ),
    "AUC": (
        "Area under the attack's ROC curve: the probability that a random "
        "member scores above a random non-member. 0.5 is guessing, 1 a perfect "
        "attack. It averages over all thresholds, so it can hide an attack "
        "that identifies a few records with certainty."
    ),
    "highest AUC": (
        "The largest AUC over the attacks a release faced: the strongest "
        "attack's, not a worst case over all possible attacks."
    ),
    "TPR at x% FPR": (
        "The share of members an attack flags (true-positive rate) when its "
        "threshold wrongly flags x% of non-members (false-positive rate). A "
        "TPR well above x% means some members are exposed with confidence; "
        "this low-FPR regime is what matters for privacy (Carlini et al. 2022)."
    ),
    "n/a (unresolved)": (
        "A TPR at an FPR f needs at least 10/f non-members: with fewer, a "
        "single non-member moves the FPR by more than f/10 and the rate is "
        "noise. Such rates are not reported, and the plots shade that region "
        "rather than draw a curve into it (Aerni, Zhang & Tramer 2024)."
    ),
    "advantage": (
        "max(TPR - FPR) over thresholds: how much better than guessing the "
        "attack's best single decision rule is (0 is guessing, 1 is perfect)."
    ),
    "eps >= (epsilon lower bound)": (
        "The epsilon of differential privacy that the attack's TPR and FPR "
        "imply at 95% confidence, from TPR <= e^eps FPR + delta (or, marked "
        "(-), TNR <= e^eps FNR + delta). The audited records come from one "
        "training run, so it measures leakage; it is a guaranteed lower bound "
        "only for independent trials (DPAuditor gives those)."
    ),
    "FPR of predict": (
        "The false-positive rate of the attack's yes/no decisions, with the "
        "threshold set on population records without membership labels, as a "
        "real attacker would. It should be near the FPR aimed for; far above "
        "means the population does not resemble the non-members."
    ),
    "p-value": (
        "Per record, the probability that a non-member scores at least as high: "
        "small values flag the records an attack exposes."
    ),
    "canary": (
        "A record made to be easy to recognise (e.g. mislabeled), put into "
        "training or left out by a coin flip, so that the audit knows the truth "
        "and can count how often an attack guesses it."
    ),
    "accountant epsilon": (
        "The epsilon that the training's privacy accounting claims, e.g. "
        "DPSGDClassifier's epsilon_: a promise that no attack's TPR exceeds "
        "e^eps FPR + delta."
    ),
    "one-run bound": (
        "A lower bound on epsilon from one trained model: the attack guesses "
        "in or out for its most and least confident canaries and abstains on "
        "the rest; more right guesses than epsilon-DP allows prove a larger "
        "epsilon (Steinke, Nasr & Jagielski 2023)."
    ),
    "many-runs bound": (
        "A lower bound on epsilon from many trained models, each an "
        "independent trial of one canary in or out (Jagielski, Ullman & Oprea "
        "2020); it needs at least 4 runs, half of them to choose the canary "
        "and the threshold."
    ),
    "certified accuracy at radius r": (
        "The share of test records that the smoothed model classifies correctly "
        "and provably keeps classifying the same under any change of the noised "
        "features of l2 size below r (Cohen, Rosenfeld & Kolter 2019)."
    ),
    "ACR (average certified radius)": (
        "The certified radius averaged over test records, 0 for wrong or "
        "abstained ones (Zhai et al. 2020)."
    ),
}


def terms(*names):
    """``[(term, definition)]`` of the named terms (all when none is named)."""
    return [(name, TERMS[name]) for name in (names or TERMS)]


def references(attack_names=(), *, papers=()):
    """The citations behind the named attacks and the extra papers, once each."""
    cited = list(papers)
    for name in attack_names:
        info = attack_info(name)
        if info is not None:
            cited += info.papers
    return [paper.cite() for paper in dict.fromkeys(cited)]


def glossary_html(entries, attack_names=(), *, papers=()):
    """The glossary as HTML: the attacks, then the terms, then the papers."""
    known = [attack_info(name) for name in dict.fromkeys(attack_names)]
    rows = [
        (name, info.describe())
        for name, info in zip(dict.fromkeys(attack_names), known, strict=True)
        if info is not None
    ]
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>"
        for term, text in [*rows, *entries]
    )
    cited = "".join(
        f"<li>{html.escape(c)}</li>" for c in references(attack_names, papers=papers)
    )
    return (
        f'<h2>Glossary</h2><dl class="glossary">{items}</dl>'
        f"<h2>References</h2><ol>{cited}</ol>"
    )


def glossary_text(entries, attack_names=(), *, papers=()):
    """The glossary as plain-text lines, as :func:`glossary_html` lays it out."""
    lines = ["Glossary"]
    for name in dict.fromkeys(attack_names):
        info = attack_info(name)
        if info is not None:
            lines.append(f"- {name}: {info.describe()}")
    lines += [f"- {term}: {text}" for term, text in entries]
    lines += ["", "References"]
    lines += [
        f"[{i}] {c}"
        for i, c in enumerate(references(attack_names, papers=papers), start=1)
    ]
    return lines
