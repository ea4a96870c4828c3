# Unigram word segmentation: an utterance, written without spaces, is a sequence of words
# drawn independently from a lexicon until the utterance ends. The lexicon is every span of
# the data of at most MAXLEN characters; EM (inside-outside over each line's segmentations)
# learns which spans are words. `emc decode` prints each line segmented.
# Data: `scripts/gen_segmentation.py` (a made-up lexicon); gold in `segmentation.gold`.

const MAXLEN = 4
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
domain More = {yes, no}
data chars : [Char]

param more : Categorical(More)
param word : Categorical(Word)

train { iterations: 40, tolerance: 1e-7, seed: 0 }

# The words covering chars[i..]: stop at the end, else a word chars[i..j], then the rest.
proc utterance(i) {
    if i == len(chars) {
        no ~ more
    } else {
        yes ~ more
        for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {
            chars[i..j] ~ word
            utterance(j)
        }
    }
}

model {
    utterance(0)
}
