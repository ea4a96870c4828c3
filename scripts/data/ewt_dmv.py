#!/usr/bin/env python3
"""Prepare UD English EWT for dependency grammar induction (the DMV), with baselines.

Reads en_ewt-ud-{train,dev,test}.conllu.gz from the treebank directory (default:
../shared/data/ud_english_ewt, relative to the repository root) at run time;
nothing of it is copied into the repository.

For every sentence: syntactic words only (multiword-token ranges such as 3-4 and
empty nodes such as 8.1 are skipped, as in the treebank's .upos files); tokens
whose UPOS is PUNCT are removed; then sentences with more than --max-length
tokens (default 10, the "WSJ10" setting) are dropped.

Re-attachment after removal (common DMV practice, e.g. Klein & Manning 2004's
punctuation-free WSJ10): a token whose head is a removed punctuation token is
attached to its nearest ancestor that is not punctuation (the root, 0, if there
is none). In EWT punctuation is almost always a leaf, so this rarely applies;
the counts below say how often. A sentence left without tokens, or with more
than one root (its root was punctuation with several non-punctuation
dependents), is dropped and counted, since the DMV generates exactly one root.
Heads are then re-indexed to the kept tokens (1-based, 0 = root).

Writes, for each split, to --out/SPLIT/ (created if missing):

  tags.txt   UPOS tags, space-separated, one sentence per line (the DMV's data)
  heads.txt  gold heads, 1-based positions, 0 = root (gold for
             `emc eval --metric attachment`)
  words.txt  the word forms of the kept tokens, for reading decoded trees
  left.txt   left-branching baseline: every token's head is the next token,
             the last token is the root (1 <- 2 <- ... <- n)
  right.txt  right-branching baseline: every token's head is the previous
             token, the first token is the root (1 -> 2 -> ... -> n)

and prints one summary line per split (sentences read / kept / dropped, tokens,
re-attached tokens, non-projective kept sentences). Score the baselines with

  emc eval --gold OUT/train/heads.txt --pred OUT/train/left.txt --metric attachment

or run this script with --score EMC (the path of an emc binary) to do that for
every split. Deterministic: the output depends only on the input and flags.

  python3 scripts/data/ewt_dmv.py --out target/data/ewt10 [--max-length 10] [--score target/release/emc]
"""

import argparse
import gzip
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "ud_english_ewt"
SPLITS = ("train", "dev", "test")


def read_conllu(path):
    """Yields each sentence as a list of (form, upos, head) over its syntactic
    words; heads index those words 1-based (0 = root), as in the file."""
    sentence = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                if sentence:
                    yield sentence
                sentence = []
                continue
            if line.startswith("#"):
                continue
            columns = line.split("\t")
            if len(columns) != 10:
                raise ValueError(f"{path}:{number}: expected 10 tab-separated columns")
            if "-" in columns[0] or "." in columns[0]:
                continue
            if int(columns[0]) != len(sentence) + 1:
                raise ValueError(f"{path}:{number}: word ids must count 1, 2, 3, ...")
            sentence.append((columns[1], columns[3], int(columns[6])))
    if sentence:
        yield sentence


def remove_punctuation(sentence):
    """The kept (form, upos, head) triples with heads re-indexed, and how many
    kept tokens were re-attached past a removed punctuation head."""
    heads = [head for _, _, head in sentence]
    punct = [upos == "PUNCT" for _, upos, _ in sentence]
    new_index = {}
    for old, is_punct in enumerate(punct, start=1):
        if not is_punct:
            new_index[old] = len(new_index) + 1
    kept, reattached = [], 0
    for old, (form, upos, head) in enumerate(sentence, start=1):
        if punct[old - 1]:
            continue
        # Climb past punctuation ancestors; the treebank is a tree, so this ends.
        climbed = False
        while head != 0 and punct[head - 1]:
            head = heads[head - 1]
            climbed = True
        reattached += climbed
        kept.append((form, upos, 0 if head == 0 else new_index[head]))
    return kept, reattached


def is_projective(heads):
    """No two arcs cross (the root arc from position 0 included)."""
    arcs = [(min(d, h), max(d, h)) for d, h in enumerate(heads, start=1)]
    for a, b in arcs:
        for c, d in arcs:
            if a < c < b < d:
                return False
    return True


def prepare_split(path, max_length):
    """The kept sentences of one split, and the summary counts."""
    stats = dict(read=0, empty=0, long=0, multi_root=0, kept=0, tokens=0,
                 reattached=0, non_projective=0)
    kept = []
    for sentence in read_conllu(path):
        stats["read"] += 1
        tokens, reattached = remove_punctuation(sentence)
        if not tokens:
            stats["empty"] += 1
            continue
        if len(tokens) > max_length:
            stats["long"] += 1
            continue
        if sum(head == 0 for _, _, head in tokens) != 1:
            stats["multi_root"] += 1
            continue
        stats["kept"] += 1
        stats["tokens"] += len(tokens)
        stats["reattached"] += reattached
        stats["non_projective"] += not is_projective([h for _, _, h in tokens])
        kept.append(tokens)
    return kept, stats


def lines(rows):
    return "".join(" ".join(str(x) for x in row) + "\n" for row in rows)


def write_split(directory, sentences):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tags.txt").write_text(lines([u for _, u, _ in s] for s in sentences))
    (directory / "heads.txt").write_text(lines([h for _, _, h in s] for s in sentences))
    (directory / "words.txt").write_text(
        lines([f for f, _, _ in s] for s in sentences), encoding="utf-8")
    (directory / "left.txt").write_text(
        lines([i + 1 if i < len(s) else 0 for i in range(1, len(s) + 1)] for s in sentences))
    (directory / "right.txt").write_text(
        lines([i - 1 for i in range(1, len(s) + 1)] for s in sentences))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE,
                        help="treebank directory with the .conllu.gz files (default: %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output directory")
    parser.add_argument("--max-length", type=int, default=10,
                        help="keep sentences of at most N tokens after removal (default: 10)")
    parser.add_argument("--score", metavar="EMC", default=None,
                        help="score the baselines of every split with this emc binary")
    args = parser.parse_args()
    if args.max_length < 1:
        parser.error("--max-length must be at least 1")
    for split in SPLITS:
        path = args.source / f"en_ewt-ud-{split}.conllu.gz"
        try:
            sentences, stats = prepare_split(path, args.max_length)
        except (OSError, ValueError) as error:
            sys.exit(f"ewt_dmv.py: {error}")
        write_split(args.out / split, sentences)
        print(f"{split}: read {stats['read']} sentences, kept {stats['kept']} "
              f"({stats['tokens']} tokens); dropped {stats['long']} longer than "
              f"{args.max_length}, {stats['empty']} all punctuation, {stats['multi_root']} "
              f"with several roots; {stats['reattached']} tokens re-attached past "
              f"punctuation; {stats['non_projective']} kept sentences non-projective")
    if args.score:
        for split in SPLITS:
            for baseline in ("left", "right"):
                result = subprocess.run(
                    [args.score, "eval", "--gold", str(args.out / split / "heads.txt"),
                     "--pred", str(args.out / split / f"{baseline}.txt"),
                     "--metric", "attachment"],
                    capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"ewt_dmv.py: emc eval failed: {result.stderr.strip()}")
                print(f"{split} {baseline}-branching: {result.stdout.strip()}")


if __name__ == "__main__":
    main()
