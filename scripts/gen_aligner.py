#!/usr/bin/env python3
"""Generates the word alignment toy corpus of the zoo (`models/hmm_aligner.txt` and
`models/hmm_aligner.gold`): English sentences from a few templates with their French
translations (a made-up, accent-free little French: adjectives follow their noun, negation is
`ne ... pas`), one pair per line as `french ||| english`, and the gold links in the WPT-2003
format (`sentence english french S`, 1-based) that `emc eval --metric aer` reads. French
`ne` and English `does` are left unaligned (NULL). Both determiners of a sentence are often the
same word, which IBM Model 1 cannot tell apart and an HMM aligner can (by the jumps).

    python3 scripts/gen_aligner.py models/hmm_aligner

Deterministic: the same seed writes the same files.
"""

import random
import sys

NOUNS = {
    "house": "maison", "cat": "chat", "dog": "chien", "garden": "jardin", "book": "livre",
    "car": "voiture", "tree": "arbre", "child": "enfant", "city": "ville", "door": "porte",
    "friend": "ami", "teacher": "professeur", "bird": "oiseau", "river": "riviere",
}
ADJECTIVES = {
    "blue": "bleu", "green": "vert", "red": "rouge", "black": "noir", "white": "blanc",
    "happy": "heureux",
}
VERBS = {"sees": "voit", "likes": "aime", "finds": "trouve", "takes": "prend", "has": "a"}
VERBS_BARE = {"sees": "see", "likes": "like", "finds": "find", "takes": "take", "has": "have"}
DETERMINERS = {"the": "le", "a": "un"}
LINES = 300
SEED = 3


def noun_phrase(rng):
    """English and French words of a noun phrase, with the English index of each French word
    (relative to the phrase)."""
    det = rng.choice(["the", "the", "a"])
    noun = rng.choice(list(NOUNS))
    en, fr = [det], [(DETERMINERS[det], 0)]
    if rng.random() < 0.4:
        adj = rng.choice(list(ADJECTIVES))
        en += [adj, noun]
        fr += [(NOUNS[noun], 2), (ADJECTIVES[adj], 1)]
    else:
        en += [noun]
        fr += [(NOUNS[noun], 1)]
    if rng.random() < 0.2:
        # "of the child": `de le enfant`
        of = rng.choice(list(NOUNS))
        base = len(en)
        en += ["of", "the", of]
        fr += [("de", base), ("le", base + 1), (NOUNS[of], base + 2)]
    return en, fr


def sentence(rng):
    """(english words, french words, links as (english, french) 0-based pairs)."""
    subject_en, subject_fr = noun_phrase(rng)
    object_en, object_fr = noun_phrase(rng)
    verb = rng.choice(list(VERBS))
    en = list(subject_en)
    fr = [(w, i) for w, i in subject_fr]
    if rng.random() < 0.25:
        # "does not like": `ne aime pas`; `does` and `ne` stay unaligned.
        base = len(en)
        en += ["does", "not", VERBS_BARE[verb]]
        fr += [("ne", None), (VERBS[verb], base + 2), ("pas", base + 1)]
    else:
        fr += [(VERBS[verb], len(en))]
        en += [verb]
    base = len(en)
    en += object_en
    fr += [(w, base + i) for w, i in object_fr]
    links = [(i, j) for j, (_, i) in enumerate(fr) if i is not None]
    return en, [w for w, _ in fr], links


def main(prefix):
    rng = random.Random(SEED)
    pairs, gold = [], []
    for s in range(LINES):
        en, fr, links = sentence(rng)
        pairs.append(f"{' '.join(fr)} ||| {' '.join(en)}")
        gold += [f"{s + 1} {i + 1} {j + 1} S" for i, j in links]
    with open(f"{prefix}.txt", "w") as out:
        out.write("\n".join(pairs) + "\n")
    with open(f"{prefix}.gold", "w") as out:
        out.write("\n".join(gold) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/hmm_aligner")
