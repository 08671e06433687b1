"""BREP-MI against a face-identity classifier, with and without Robust Privacy.

The face-image version of the Robust Privacy paper's inversion experiment
(Jin et al. 2026, after Kahla et al., CVPR 2022). It needs assets that
skprivacy cannot ship and a GPU; it is not run in CI and no numbers from it are
claimed in the documentation. Supply, as local files:

* ``--target``: the attacked classifier (e.g. FaceNet64 trained on the 1,000
  private CelebA identities of the GMI split), as a TorchScript file taking
  images of shape (n, 3, 64, 64) in [0, 1] and returning logits (n, 1000);
* ``--evaluator``: the independent evaluation classifier (e.g. FaceNet/IR-50 at
  112x112; put the upsampling inside the scripted module), same contract;
* ``--generator``: the GAN generator trained on the *public* identities, as a
  TorchScript file mapping codes (n, 100) to images (n, 3, 64, 64) in [0, 1];
* ``--private-images`` and ``--private-labels``: ``.npy`` arrays of the private
  images (n, 3, 64, 64) in [0, 1] and their identities, for the utility
  metrics (accuracy on the target's top-confidence image per identity, and on
  all given images).

Convert a checkpoint of the original PyTorch code with, for example,
``torch.jit.script(model.eval()).save("target.pt")`` after loading its weights
with that code. Example::

    python benchmarks/brep_faces.py --target target.pt --evaluator eval.pt \\
        --generator celeba_G.pt --private-images private.npy \\
        --private-labels private_labels.npy --n-targets 100 --patience 200

Releases: no defense; ``SmoothedClassifier`` over the frozen target with
``sigma`` in pixel units (0.01-0.1, N = ``--n-predict``); randomized response
with ``p_keep`` in {0.99, 0.95, 0.9, 0.8, 0.6}. The paper's acceptance values
(ASR 73% without defense, 44% at sigma 0.03 with 100% top-confidence accuracy,
4% at sigma 0.1) apply only to the full setting (300 identities, patience 1000).
Smoothing noise is drawn on the CPU by ``SmoothedClassifier``'s generic path
(12,288 values per noisy copy): expect the smoothed rows to dominate the run.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator

from skprivacy import SmoothedClassifier
from skprivacy.audit import BoundaryRepulsionInversion
from skprivacy.defense import RandomizedResponseClassifier

SHAPE = (3, 64, 64)


class ScriptedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted TorchScript classifier on flattened images, with sklearn's API."""

    def __init__(self, path=None, n_classes=1000, device="cuda", batch_size=512):
        self.path = path
        self.n_classes = n_classes
        self.device = device
        self.batch_size = batch_size

    def fit(self, X=None, y=None):
        self.module_ = torch.jit.load(self.path, map_location=self.device).eval()
        self.classes_ = np.arange(self.n_classes)
        self.n_features_in_ = int(np.prod(SHAPE))
        return self

    @torch.no_grad()
    def predict_proba(self, X):
        X = np.asarray(X, dtype=np.float32)
        out = []
        for start in range(0, len(X), self.batch_size):
            batch = torch.from_numpy(X[start : start + self.batch_size])
            batch = batch.to(self.device).reshape(-1, *SHAPE)
            logits = self.module_(batch)
            logits = logits[0] if isinstance(logits, tuple) else logits
            out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def scripted_generator(path, device):
    module = torch.jit.load(path, map_location=device).eval()

    @torch.no_grad()
    def generate(Z):
        Z = torch.as_tensor(np.asarray(Z), dtype=torch.float32, device=device)
        return module(Z).reshape(len(Z), -1).clamp(0, 1).cpu().numpy()

    return generate


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("target", "evaluator", "generator"):
        parser.add_argument(f"--{name}", required=True, help="TorchScript file")
    parser.add_argument("--private-images", required=True, help=".npy images")
    parser.add_argument("--private-labels", required=True, help=".npy identities")
    parser.add_argument("--n-classes", type=int, default=1000)
    parser.add_argument("--n-targets", type=int, default=300)
    parser.add_argument("--patience", type=int, default=1000)
    parser.add_argument("--n-predict", type=int, default=100)
    parser.add_argument(
        "--sigmas", type=float, nargs="+", default=[0.01, 0.02, 0.03, 0.05, 0.07, 0.1]
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    target, evaluator = (
        ScriptedClassifier(path, args.n_classes, args.device).fit()
        for path in (args.target, args.evaluator)
    )
    generator = scripted_generator(args.generator, args.device)
    images = np.load(args.private_images).reshape(-1, int(np.prod(SHAPE)))
    labels = np.load(args.private_labels)
    proba = target.predict_proba(images)
    top = [
        np.flatnonzero(labels == c)[proba[labels == c, c].argmax()]
        for c in np.unique(labels)
    ]
    frozen = FrozenEstimator(target)
    releases = [("no defense", frozen)]
    for sigma in args.sigmas:
        smoothed = SmoothedClassifier(
            frozen,
            sigma=sigma,
            n_predict=args.n_predict,
            fit_noise=False,
            batch_size=2048,
            random_state=args.seed,
        ).fit(images[:2], labels[:2])
        releases.append((f"RP sigma={sigma:g} N={args.n_predict}", smoothed))
    k = args.n_classes
    for p_keep in (0.99, 0.95, 0.9, 0.8, 0.6):
        eps = float(np.log(p_keep * (k - 1) / (1 - p_keep)))
        rr = RandomizedResponseClassifier(frozen, epsilon=eps, random_state=0)
        releases.append((f"RR p_keep={p_keep:g}", rr.fit(images[:2], labels[:2])))
    print(
        f"BREP-MI, {args.n_targets} untargeted identities, patience "
        f"{args.patience}, reference defaults otherwise, seed {args.seed}; sigma "
        "in pixel units ([0, 1] images)."
    )
    print(
        "| release | acc. top-confidence | acc. private images | ASR top-1 [95% CI] "
        "| ASR top-5 | median queries | seconds |"
    )
    print("|---" * 7 + "|")
    for name, release in releases:
        start = time.perf_counter()
        report = (
            BoundaryRepulsionInversion(
                release,
                generator,
                evaluator=evaluator,
                n_targets=args.n_targets,
                patience=args.patience,
                random_state=args.seed,
                verbose=1,
            )
            .fit()
            .evaluate()
        )
        print(
            f"| {name} | {np.mean(release.predict(images[top]) == labels[top]):.3f} "
            f"| {np.mean(release.predict(images) == labels):.3f} "
            f"| {report.asr:.3f} [{report.asr_ci[0]:.3f}, {report.asr_ci[1]:.3f}] "
            f"| {report.top_k_asr:.3f} | {report.median_queries:.0f} "
            f"| {time.perf_counter() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
