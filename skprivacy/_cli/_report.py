"""Tables, plots and the self-contained HTML report of the demo."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import base64
import html
import json
import platform
import warnings
from pathlib import Path

import numpy as np

import skprivacy
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils import _glossary as glossary
from skprivacy.utils._html import html_page

_RELEASE_NAMES = {
    "plain": "plain network",
    "CRL": "CRL network",
    "smoothed": "smoothed {base}",
    "model": "{model}",
}
# What each attack reads, in the words of the tables.
_READS = {"proba": "probabilities", "labels": "labels"}
_UNRESOLVED = "n/a"


def _release_name(name, results):
    base = results.get("smoothed", {}).get("base", "")
    model = results["data"].get("model", "")
    return _RELEASE_NAMES[name].format(base=base, model=model)


def _fmt(value, spec=".3f", missing="-"):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return missing
    return format(value, spec)


def _percent(fpr):
    return f"{100 * fpr:g}%"


def _tpr_header(fpr):
    return f"TPR@{_percent(fpr)}FPR" if fpr is not None else "TPR@low FPR"


def _highest(values):
    """The largest of the resolved values, None if none is."""
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _render(header, rows):
    """A plain-text table with right-aligned columns after the first."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for k, row in enumerate([header, *rows]):
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(c).rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def attack_sets(results):
    """``{release: [attack names]}`` in the order they ran."""
    sets = {}
    for r in results["membership"]:
        sets.setdefault(r["model"], []).append(r["attack"])
    return sets


def summary_rows(results):
    """One row per release: utility, membership leakage, certificates, attribute.

    The leakage columns are the strongest of the attacks each release faced;
    when the releases did not all face the same attacks, a column lists them.
    """
    radii = list(results.get("smoothed", {}).get("certified_accuracy", {}))
    attribute = {r["release"]: r for r in results.get("attribute", [])}
    fpr = results["data"]["tpr_fpr"]
    sets = attack_sets(results)
    differ = len({tuple(v) for v in sets.values()}) > 1
    header = ["release", "test acc", "highest AUC", _tpr_header(fpr), "eps >="]
    header += [f"cert acc r={r}" for r in radii]
    if attribute:
        first = next(iter(attribute.values()))
        header += [f"{first['attribute']} attack", "prior only"]
    if differ:
        header.append("attacks")
    rows = []
    for name, model in results["models"].items():
        audits = [r for r in results["membership"] if r["model"] == name]
        tprs = [r["tpr_at_fpr"][f"{fpr:g}"] if fpr else None for r in audits]
        row = [
            _release_name(name, results),
            _fmt(model["test_accuracy"]),
            _fmt(max(r["auc"] for r in audits)),
            _fmt(_highest(tprs), ".1%", _UNRESOLVED),
            _fmt(
                _highest(r["epsilon_lower_bound"] for r in audits), ".2f", _UNRESOLVED
            ),
        ]
        certified = results["smoothed"]["certified_accuracy"] if radii else {}
        row += [_fmt(certified.get(r)) if name == "smoothed" else "-" for r in radii]
        if attribute:
            row += [
                _fmt(attribute[name]["success_rate"]),
                _fmt(attribute[name]["prior_success_rate"]),
            ]
        if differ:
            row.append(", ".join(sets.get(name, [])))
        rows.append(row)
    return header, rows


def _reads(record):
    if record["model"] == "smoothed" and record["reads"] == "proba":
        return "votes"
    return _READS[record["reads"]]


def membership_rows(results):
    fprs = list(results["membership"][0]["tpr_at_fpr"])
    header = ["release", "attack", "reads", "AUC", "AUC 95% CI"]
    header += [_tpr_header(float(f)) for f in fprs]
    header += ["eps >=", "FPR of predict"]
    rows = [
        [
            _release_name(r["model"], results),
            r["attack"],
            _reads(r),
            _fmt(r["auc"]),
            "[{:.3f}, {:.3f}]".format(*r["auc_interval"]),
            *(_fmt(r["tpr_at_fpr"][f], ".1%", _UNRESOLVED) for f in fprs),
            _fmt(r["epsilon_lower_bound"], ".2f", _UNRESOLVED)
            + (" (-)" if r.get("epsilon_side") == "negative" else ""),
            _fmt(r["predict_fpr"], ".1%"),
        ]
        for r in results["membership"]
    ]
    return header, rows


def attribute_rows(results):
    header = ["release", "success", "95% CI", "prior only", "advantage"]
    rows = [
        [
            _release_name(r["release"], results),
            _fmt(r["success_rate"]),
            "[{:.3f}, {:.3f}]".format(*r["success_rate_ci"]),
            _fmt(r["prior_success_rate"]),
            _fmt(r["advantage"], "+.3f"),
        ]
        for r in results.get("attribute", [])
    ]
    return header, rows


def _notes(results):
    data = results["data"]
    sets = attack_sets(results)
    notes = [
        f"{data['members']} members (training rows) and {data['non_members']} "
        f"non-members are audited; {data['population']} population records set "
        "the attack thresholds without membership labels.",
        f"highest AUC, {_tpr_header(data['tpr_fpr'])} and eps >= are the "
        "strongest of the attacks each release faced (the glossary at the end "
        "of report.txt and report.html defines every term).",
    ]
    if len({tuple(v) for v in sets.values()}) == 1:
        notes.append(
            f"Every release faced the same {len(next(iter(sets.values())))} attacks: "
            f"{', '.join(next(iter(sets.values())))}."
        )
    else:
        notes.append(
            "The releases faced different attacks (column 'attacks'): compare "
            "their strongest attacks with care."
        )
    for name, skipped in results.get("skipped_attacks", {}).items():
        for reason in sorted(set(skipped.values())):
            attacks = [a for a, why in skipped.items() if why == reason]
            notes.append(
                f"Not run on {_release_name(name, results)}: {', '.join(attacks)} "
                f"({reason})."
            )
    if any(v is None for r in results["membership"] for v in r["tpr_at_fpr"].values()):
        notes.append(
            f"{_UNRESOLVED}: a TPR at an FPR needs at least 10/FPR non-members; with "
            f"{data['non_members']} the data cannot resolve an FPR below "
            f"{_percent(10 / data['non_members'])}."
        )
    if data.get("dropped_features"):
        notes.append(
            "Dropped by the preprocessing (no observed values in the population): "
            f"{', '.join(data['dropped_features'])}."
        )
    chosen = results.get("chosen")
    if chosen and "smoothed" in results:
        s = results["smoothed"]
        notes.append(
            f"Smoothed model: {chosen['model']} ({chosen['rule']}), Gaussian noise "
            f"of sigma={s['sigma']} on the {s['noised_columns']} standardized "
            f"numerical columns. {_RADIUS_UNIT.capitalize()}; n={s['n']} noisy "
            f"votes per certificate, alpha={s['alpha']}, on {s['certified_rows']} "
            f"test rows (abstains on {s['abstain_rate']:.1%}). Its attacks read "
            f"its vote frequencies ({s['n_predict']} votes; the reference models "
            "are trained through the same smoothing recipe) or its labels."
        )
    for r in results.get("attribute", [])[:1]:
        notes.append(
            f"Attribute attack: label-only MAP guess of {r['attribute']} "
            f"(success = within {r['tolerance']}) on {r['n_targets']} members, "
            "against the best guess from the population's distribution alone."
        )
    return notes


def _strongest(audits, fpr):
    """The audit with the highest TPR at ``fpr`` (AUC breaks ties), or None."""
    resolved = [r for r in audits if fpr and r["tpr_at_fpr"][f"{fpr:g}"] is not None]
    if not resolved:
        return None
    return max(resolved, key=lambda r: (r["tpr_at_fpr"][f"{fpr:g}"], r["auc"]))


def verdict(results):
    """One paragraph in plain words: which release leaks most, how sure we are."""
    data = results["data"]
    fpr = data["tpr_fpr"]
    by_release = {
        name: max(
            (r for r in results["membership"] if r["model"] == name),
            key=lambda r: r["auc"],
        )
        for name in results["models"]
    }
    leakiest = max(by_release, key=lambda name: by_release[name]["auc"])
    top = by_release[leakiest]
    low, high = top["auc_interval"]
    name = _release_name(leakiest, results)
    parts = [
        f"The {name} leaks most: {top['attack']} (reads {_reads(top)}) tells its "
        f"members from non-members with AUC {top['auc']:.3f} (95% CI "
        f"[{low:.3f}, {high:.3f}]; 0.5 is guessing)."
    ]
    point = _strongest(
        [r for r in results["membership"] if r["model"] == leakiest], fpr
    )
    if point is not None:
        tpr = point["tpr_at_fpr"][f"{fpr:g}"]
        parts.append(
            f"At the operating point of {_percent(fpr)} false positives, "
            f"{point['attack']} flags {tpr:.1%} of its {data['members']} members "
            f"({round(tpr * data['members'])}), {tpr / fpr:.1f} times what "
            "guessing flags."
        )
    else:
        parts.append(
            f"No TPR at a low FPR is reported: {data['non_members']} non-members "
            "cannot resolve one (see n/a)."
        )
    others = [n for n in by_release if n != leakiest]
    tied = [n for n in others if by_release[n]["auc_interval"][1] >= low]
    if tied:
        parts.append(
            "Its AUC interval overlaps that of the "
            + " and the ".join(_release_name(n, results) for n in tied)
            + ", so these data do not rank "
            + ("them." if len(tied) > 1 else "the two.")
        )
    elif others:
        parts.append("Its AUC interval lies above every other release's.")
    chance = [n for n, r in by_release.items() if r["auc_interval"][0] <= 0.5]
    if chance:
        parts.append(
            "No attack on the "
            + " or the ".join(_release_name(n, results) for n in chance)
            + " beats guessing at 95% confidence (the AUC interval holds 0.5)."
        )
    else:
        parts.append(
            "Every release leaks measurably: each one's highest-AUC interval "
            "lies above 0.5."
        )
    least = min(by_release, key=lambda n: by_release[n]["auc"])
    if least != leakiest:
        models = results["models"]
        low_l, high_l = by_release[least]["auc_interval"]
        close = [
            _release_name(n, results)
            for n in by_release
            if n != least and by_release[n]["auc_interval"][0] <= high_l
        ]
        parts.append(
            f"The {_release_name(least, results)} leaks least (highest AUC "
            f"{by_release[least]['auc']:.3f}, 95% CI [{low_l:.3f}, {high_l:.3f}])"
            + (
                f", though its interval overlaps the {' and the '.join(close)}'s"
                if close
                else ""
            )
            + f"; its test accuracy is {models[least]['test_accuracy']:.3f}, "
            f"against {models[leakiest]['test_accuracy']:.3f} for the {name}."
        )
    smoothed = results.get("smoothed", {})
    if smoothed.get("certified_accuracy"):
        radius, accuracy = list(smoothed["certified_accuracy"].items())[-1]
        parts.append(
            f"The {_release_name('smoothed', results)} is certified correct on "
            f"{accuracy:.1%} of {smoothed['certified_rows']} test rows against any "
            f"change of l2 size {radius} (standard deviations) in the noised "
            "columns; its average certified radius is "
            f"{smoothed['average_certified_radius']:.3f}."
        )
    for r in results.get("attribute", []):
        low_s, _ = r["success_rate_ci"]
        if low_s > r["prior_success_rate"]:
            parts.append(
                f"From the {_release_name(r['release'], results)}'s labels, "
                f"{r['attribute']} is inferred better than from the population "
                f"alone ({r['success_rate']:.3f}, 95% CI from {low_s:.3f}, against "
                f"{r['prior_success_rate']:.3f})."
            )
    parts.append(
        "These numbers measure these attacks on this split; they are not "
        "guarantees: a stronger attack may do better, and only differential "
        "privacy bounds every attack."
    )
    return " ".join(parts)


# Terms the command line's report uses, in the glossary's words.
_TERMS = (
    "member / non-member",
    "population",
    "reads: probabilities / labels / votes",
    "AUC",
    "highest AUC",
    "TPR at x% FPR",
    "n/a (unresolved)",
    "eps >= (epsilon lower bound)",
    "FPR of predict",
)
_SMOOTHING_TERMS = ("certified accuracy at radius r", "ACR (average certified radius)")
_RADIUS_UNIT = (
    "certified radii are l2 distances over the noised columns, in units of "
    "each column's standard deviation"
)


def _glossary_args(results):
    attacks = [r["attack"] for r in results["membership"]]
    entries = glossary.terms(*_TERMS)
    papers = [glossary.AERNI]
    if "smoothed" in results:
        entries += glossary.terms(*_SMOOTHING_TERMS)
        papers += [glossary.COHEN, glossary.ZHAI]
    if "CRL" in results["models"]:
        papers.append(glossary.FANG_KIM)
    return entries, attacks, papers


def per_record_section(results, *, as_html=False):
    """The members most exposed in each release's per-record table.

    ``results["per_record"]`` holds every audited record (``per_record.csv``
    and ``results.json`` too); this shows the members with the smallest
    Bonferroni p-value of "non-member" over the attacks, as
    ``AuditReport.vulnerable_records`` does. Returns the parts of a section
    (none without per-record results).
    """
    tables = results.get("per_record")
    if not tables:
        return []
    k = 10 if as_html else 5
    parts = [
        f"Most exposed members ({k} per release; every audited record, with its "
        "score, p-value and decision under each attack, is in per_record.csv "
        "and results.json)"
    ]
    for name, table in tables.items():
        column = {c: i for i, c in enumerate(table["columns"])}
        flags = [c for c in table["columns"] if c.startswith("flagged:")]
        members = [r for r in table["rows"] if r[column["membership"]] == 1]
        members.sort(key=lambda r: r[column["p_value_bonferroni"]])
        header = ["data row", "label", "p-value (Bonferroni)", "smallest under"]
        header.append(f"flagged at {_percent(results['data']['tpr_fpr'])} FPR by")
        rows = [
            [
                r[column["row"]],
                r[column["label"]],
                _fmt(r[column["p_value_bonferroni"]], ".4f"),
                r[column["most_exposed_by"]],
                ", ".join(f[8:] for f in flags if r[column[f]] == 1)
                or ("n/a" if all(r[column[f]] is None for f in flags) else "none"),
            ]
            for r in members[:k]
        ]
        title = _release_name(name, results)
        if as_html:
            parts += [f"<h3>{html.escape(title)}</h3>", _html_table(header, rows)]
        else:
            parts += ["", title, _render(header, rows)]
    if as_html:
        return [
            f"<h2>Per-record results</h2><p>{html.escape(parts[0])}</p>",
            *parts[1:],
        ]
    return ["", *parts]


def _title(data):
    if data.get("model"):
        return (
            f"skprivacy audit of {data['model']} on {data['dataset']} "
            f"({data['n_rows']} rows, {data['n_features']} feature columns)"
        )
    title = (
        f"skprivacy {'demo' if data['sensitive'] else 'audit'} on {data['dataset']} "
        f"({data['n_rows']} rows, {data['n_features']} features after preprocessing"
    )
    if data["sensitive"]:
        title += f"; sensitive attribute: {data['sensitive']}"
    return title + ")"


def _command(meta):
    """The command line that made the report, as typed when it is known."""
    return (meta or {}).get("command")


def format_text(results, meta=None):
    """What the demo prints: the verdict, the tables, the details, the glossary."""
    command = _command(meta)
    parts = [
        _title(results["data"]),
        *([f"Command: {command}"] if command else []),
        "",
        "Verdict: " + verdict(results),
        "",
        _render(*summary_rows(results)),
        "",
        "Membership inference",
        _render(*membership_rows(results)),
    ]
    if results.get("attribute"):
        parts += ["", "Attribute inference", _render(*attribute_rows(results))]
    parts += per_record_section(results)
    parts += ["", *(f"- {note}" for note in _notes(results))]
    return "\n".join(parts)


def _glossary_text(results):
    entries, attacks, papers = _glossary_args(results)
    return "\n".join(glossary.glossary_text(entries, attacks, papers=papers))


# -- plots --------------------------------------------------------------------
def _plot_membership(results, artifacts, path):
    import matplotlib.pyplot as plt

    from skprivacy.audit import MembershipInferenceDisplay

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    # The legends give the TPR at the FPR of the summary, which the data
    # resolves; when none is, they say n/a (and the warning is the table's note).
    fpr = results["data"]["tpr_fpr"]
    for name in results["models"]:
        audits = [r for r in results["membership"] if r["model"] == name]
        strongest = max(audits, key=lambda r: r["auc"])
        records = artifacts["reports"][(name, strongest["attack"])].records
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnresolvedMetricWarning)
            MembershipInferenceDisplay.from_predictions(
                records["membership"],
                records["score"],
                name=f"{_release_name(name, results)}, {strongest['attack']}",
                low_fpr=fpr or min(float(f) for f in strongest["tpr_at_fpr"]),
                ax=ax,
                histogram=False,
            )
    # Each display sets the limits from its own curve and adds a chance line;
    # with several curves on one axes, span the resolvable range and keep one.
    n = len(records)
    ax.set(xlim=(1 / n, 1), ylim=(1 / n, 1.05))
    _one_chance_label(ax)
    ax.set_title("Strongest membership attack per release")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _one_chance_label(ax):
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for handle, label in zip(handles, labels, strict=True):
        seen.setdefault(label, handle)
    ax.legend(list(seen.values()), list(seen), loc="lower right", fontsize=8)


def _plot_certified(results, artifacts, path):
    import matplotlib.pyplot as plt

    from skprivacy.certify import CertifiedAccuracyDisplay

    y, labels, radii = artifacts["certified"]
    sigma = results["smoothed"]["sigma"]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    CertifiedAccuracyDisplay.from_predictions(
        y, labels, radii, name=_release_name("smoothed", results), ax=ax
    )
    ax.set_xlabel("Certified l2 radius (standard deviations of the noised columns)")
    ax.set_title(
        f"Certified accuracy (noise sigma = {sigma} standard deviations)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_attribute(results, path):
    import matplotlib.pyplot as plt

    rows = results["attribute"]
    names = [_release_name(r["release"], results) for r in rows]
    success = np.array([r["success_rate"] for r in rows])
    ci = np.array([r["success_rate_ci"] for r in rows])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = np.arange(len(rows))
    ax.bar(
        x,
        success,
        yerr=[success - ci[:, 0], ci[:, 1] - success],
        capsize=4,
        color="tab:red",
        label="attack (95% CI)",
    )
    ax.scatter(
        x,
        [r["prior_success_rate"] for r in rows],
        marker="_",
        s=900,
        color="black",
        zorder=3,
        label="prior-only guess",
    )
    ax.set_xticks(x, names)
    ax.set_ylim(0, min(1.0, 1.3 * ci[:, 1].max()))
    ax.set_ylabel(f"success rate (within {rows[0]['tolerance']})")
    ax.set_title(f"Inferring {rows[0]['attribute']} from the released label")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _html_table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(results, images, meta):
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(Path(path).read_bytes()).decode()}"></figure>'
        for name, path in images
    )
    sections = [
        f'<div class="verdict"><h2>Verdict</h2><p>{html.escape(verdict(results))}'
        "</p></div>",
        "<h2>Summary</h2>",
        _html_table(*summary_rows(results)),
        "<h2>Membership inference</h2>",
        _html_table(*membership_rows(results)),
    ]
    if results.get("attribute"):
        sections += [
            "<h2>Attribute inference</h2>",
            _html_table(*attribute_rows(results)),
        ]
    sections += per_record_section(results, as_html=True)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(results))
    data = results["data"]
    command = _command(meta)
    typed = f"<code>{html.escape(command)}</code>" if command else "skprivacy"
    entries, attacks, papers = _glossary_args(results)
    body = f"""<h1>Privacy report: {html.escape(data["dataset"])}</h1>
<p>Computed by {typed} on {meta["created"]} in {meta["wall_seconds"]:.0f} s
(skprivacy {skprivacy.__version__}, Python {platform.python_version()},
seed {meta["seed"]}). {html.escape(_title(data))}.</p>
{"".join(sections)}
<ul>{notes}</ul>
<h2>Figures</h2><div class="figures">{figures}</div>
{glossary.glossary_html(entries, attacks, papers=papers)}"""
    return html_page(f"skprivacy privacy report: {data['dataset']}", body)


def write_report(results, artifacts, folder, meta):
    """Write the PNG plots, ``results.json`` and ``report.html`` into ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = [("membership ROC", folder / "membership_roc.png")]
    _plot_membership(results, artifacts, images[0][1])
    if "certified" in artifacts:
        images.append(("certified accuracy", folder / "certified_accuracy.png"))
        _plot_certified(results, artifacts, images[-1][1])
    if results.get("attribute"):
        images.append(("attribute inference", folder / "attribute_inference.png"))
        _plot_attribute(results, images[-1][1])
    payload = {"meta": meta, **results}
    # Unresolved rates are null; a NaN anywhere would make invalid JSON. No
    # indentation: the per-record table would put every cell on a line of its
    # own (150,000 lines for the quick demo).
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    (folder / "results.json").write_text(text, "utf-8")
    text = f"{format_text(results, meta)}\n\n{_glossary_text(results)}\n"
    (folder / "report.txt").write_text(text, "utf-8")
    (folder / "report.html").write_text(_html(results, images, meta), "utf-8")
    return [path for _, path in images] + [
        folder / "results.json",
        folder / "report.txt",
        folder / "report.html",
    ]
