#!/usr/bin/env python3
"""Unit tests of the data preparation scripts (standard library only).

  python3 scripts/data/test_data.py

Covers what the real corpora never exercise: punctuation with dependents
(re-attached to the nearest non-punctuation ancestor), punctuation roots,
the projectivity check, the baselines' heads and Brent's line handling.
"""
import gzip
import os
import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import brent  # noqa: E402
import ewt_dmv  # noqa: E402


def token(form, upos, head):
    return (form, upos, head)


class RemovePunctuation(unittest.TestCase):
    def test_leaf_punctuation_is_dropped_and_heads_reindexed(self):
        # "Bush , nominated ." : Bush <- nominated, both punctuation marks <- nominated.
        sentence = [token("Bush", "PROPN", 3), token(",", "PUNCT", 3),
                    token("nominated", "VERB", 0), token(".", "PUNCT", 3)]
        kept, reattached = ewt_dmv.remove_punctuation(sentence)
        self.assertEqual(kept, [("Bush", "PROPN", 2), ("nominated", "VERB", 0)])
        self.assertEqual(reattached, 0)

    def test_dependent_of_punctuation_climbs_to_nearest_kept_ancestor(self):
        # a <- "(" <- ")" <- b (root): a's head chain is two punctuation marks, then b.
        sentence = [token("a", "NOUN", 2), token("(", "PUNCT", 3),
                    token(")", "PUNCT", 4), token("b", "VERB", 0)]
        kept, reattached = ewt_dmv.remove_punctuation(sentence)
        self.assertEqual(kept, [("a", "NOUN", 2), ("b", "VERB", 0)])
        self.assertEqual(reattached, 1)

    def test_punctuation_root_leaves_its_dependents_as_roots(self):
        sentence = [token("a", "NOUN", 2), token("-", "PUNCT", 0), token("b", "NOUN", 2)]
        kept, _ = ewt_dmv.remove_punctuation(sentence)
        self.assertEqual([h for _, _, h in kept], [0, 0])


class PrepareSplit(unittest.TestCase):
    def write(self, text):
        handle = tempfile.NamedTemporaryFile(suffix=".conllu.gz", delete=False)
        handle.close()
        with gzip.open(handle.name, "wt", encoding="utf-8") as f:
            f.write(text)
        self.addCleanup(os.unlink, handle.name)
        return handle.name

    def test_counts_and_drops(self):
        rows = lambda *toks: "".join(  # noqa: E731
            f"{i}\t{f}\t{f}\t{u}\t_\t_\t{h}\t_\t_\t_\n" for i, (f, u, h) in enumerate(toks, 1))
        text = ("# sent_id = 1\n" + rows(("a", "NOUN", 2), ("b", "VERB", 0), (".", "PUNCT", 2))
                + "\n" + rows((".", "PUNCT", 0)) + "\n"
                + rows(("a", "NOUN", 2), ("-", "PUNCT", 0), ("b", "NOUN", 2)) + "\n"
                + rows(*[("x", "NOUN", 2 if i != 2 else 0) for i in range(1, 5)]) + "\n"
                + "1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_\n" + rows(("a", "NOUN", 2), ("b", "VERB", 0)) + "\n")
        sentences, stats = ewt_dmv.prepare_split(self.write(text), max_length=3)
        self.assertEqual(stats["read"], 5)
        self.assertEqual((stats["kept"], stats["tokens"]), (2, 4))
        self.assertEqual((stats["empty"], stats["multi_root"], stats["long"]), (1, 1, 1))
        self.assertEqual([[h for _, _, h in s] for s in sentences], [[2, 0], [2, 0]])

    def test_baselines_and_projectivity(self):
        with tempfile.TemporaryDirectory() as out:
            sentence = [("a", "DET", 2), ("b", "NOUN", 3), ("c", "VERB", 0)]
            ewt_dmv.write_split(pathlib.Path(out), [sentence, [("x", "INTJ", 0)]])
            read = lambda name: (pathlib.Path(out) / name).read_text()  # noqa: E731
            self.assertEqual(read("left.txt"), "2 3 0\n0\n")
            self.assertEqual(read("right.txt"), "0 1 2\n0\n")
            self.assertEqual(read("heads.txt"), "2 3 0\n0\n")
            self.assertEqual(read("tags.txt"), "DET NOUN VERB\nINTJ\n")
        self.assertTrue(ewt_dmv.is_projective([2, 0, 2]))
        self.assertFalse(ewt_dmv.is_projective([3, 0, 2, 2]))  # 1 <- 3 crosses 2 -> 4


class Brent(unittest.TestCase):
    def test_chars_and_gold(self):
        self.assertEqual(list(brent.prepare(["yu want", "lUk  &t DIs"])),
                         [("y u w a n t", "yu want"), ("l U k & t D I s", "lUk &t DIs")])

    def test_empty_utterance_is_an_error_naming_the_line(self):
        with self.assertRaisesRegex(ValueError, "line 2"):
            list(brent.prepare(["yu", " "]))


if __name__ == "__main__":
    unittest.main()
