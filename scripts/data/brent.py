#!/usr/bin/env python3
"""Prepare the Brent / Bernstein-Ratner phonemic corpus for word segmentation.

Reads br-phono.txt from the corpus directory (default: ../shared/data/brent_br_phono,
relative to the repository root; see its README) at run time; nothing of it is
copied into the repository. One utterance per line, words separated by single
spaces, one ASCII character per phoneme.

Writes to --out (created if missing):

  chars.txt  each utterance's phonemes as space-separated single characters,
             word boundaries removed: "yu want" -> "y u w a n t"
             (the unsegmented input of a segmentation model)
  gold.txt   the utterance as given, words separated by single spaces
             (the gold segmentation for `emc eval --metric segmentation`)

Line k of both files is utterance k of the corpus. --lines N keeps the first N
utterances. Deterministic: no randomness, output depends only on the input.
Internal whitespace runs are normalised to one space (the corpus has none);
an empty utterance is an error naming its line, since neither file could
represent it in a way the other tools accept.

  python3 scripts/data/brent.py --out target/data/brent [--lines 1000]
"""

import argparse
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "brent_br_phono"


def prepare(lines):
    """Yields (chars line, gold line) for each utterance; raises on an empty one."""
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if not words:
            raise ValueError(f"line {number} of br-phono.txt is empty")
        yield " ".join("".join(words)), " ".join(words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE,
                        help="corpus directory holding br-phono.txt (default: %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output directory")
    parser.add_argument("--lines", type=int, default=None,
                        help="keep only the first N utterances (default: all)")
    args = parser.parse_args()
    if args.lines is not None and args.lines < 1:
        parser.error("--lines must be at least 1")
    path = args.source / "br-phono.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        sys.exit(f"brent.py: cannot read {path}: {error}")
    lines = text.splitlines()
    if args.lines is not None:
        lines = lines[: args.lines]
    try:
        pairs = list(prepare(lines))
    except ValueError as error:
        sys.exit(f"brent.py: {error}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chars.txt").write_text("".join(c + "\n" for c, _ in pairs), encoding="utf-8")
    (args.out / "gold.txt").write_text("".join(g + "\n" for _, g in pairs), encoding="utf-8")
    words = sum(len(g.split()) for _, g in pairs)
    chars = sum(len(c.split()) for c, _ in pairs)
    types = len({w for _, g in pairs for w in g.split()})
    print(f"brent.py: {len(pairs)} utterances, {words} word tokens, {types} word types, "
          f"{chars} characters -> {args.out}/chars.txt, gold.txt")


if __name__ == "__main__":
    main()
