# The featurised unigram segmenter of Berg-Kirkpatrick et al. (2010, "Painless unsupervised
# learning with features", word segmentation on the Brent corpus): `brent_seg.em` with the
# lexicon a Logistic family, word(w) = exp(v . f(w)) / sum_w' exp(v . f(w')) over every span
# of the data of at most MAXLEN phonemes, so that words share strength through their form.
# The length penalty exp(-|w|^1.6) of Liang & Klein (2009) stays, as the issue describes the
# paper (see brent_seg.em for its source): a fixed factor (`weight`), neither a probability
# nor learned.
#
# Features of a word (their templates: README's Logistic section):
#   word                  its identity
#   length                its number of phonemes (one indicator per length)
#   count(VOWELS)         its number of vowels (one indicator per count)
#   prefix(n, VOWELS)     the consonant/vowel pattern of its first n phonemes, n = 1, 2, 3
#   suffix(n, VOWELS)     the same of its last n phonemes
# VOWELS are the vowel symbols of Brent & Cartwright's (1996) one-character transcription
# (the key that circulates with br-phono.txt, e.g. with Goldwater's copy of the corpus; the key
# itself was not at hand here, so every symbol below was checked against the corpus's words,
# and the 50 symbols the corpus uses are the 22 below and 28 consonants): & (that),
# 6 (about), 7 (boy), 9 (fly), A (but), E (bet), I (bit), O (law), Q (out), U (put), a (hot),
# e (bay), i (bee), o (boat), u (boot), and the r-coloured vowels 3 (bird), R (butter),
# # (are), % (for), * (air), ( (here), ) (lure). Checked against the corpus's own words
# (b7 "boy", l9k "like", nQ "now", f% "for", D* "there", h( "here", y) "your", g3l "girl").
# The syllabic consonants ~ (button), L (bottle), M (rhythm) are consonant symbols of the key
# and count as consonants here; so do c (chip), G (jump), W (why) and the rest.
#
# What is optimised: with --algorithm em (their Algorithm 1), EM on
#   sum_x log sum_{segmentations} more(yes)^k more(no) prod_i word(w_i) exp(-|w_i|^1.6)
#   - l2 * |v|^2,
# the M-step fitting v by L-BFGS to the expected counts; with --algorithm direct (their
# Algorithm 2), L-BFGS on the same objective over v and `more` at once. l2 = 1.0, emc's
# default and the POS task's (not tuned on this corpus). The trace reports the objective.
# data: segmentation.txt

const MAXLEN = 10
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
domain More = {yes, no}
data chars : [Char]

param more : Categorical(More)
param word : Logistic(Word) {
    features: [
        word, length, count("&679AEIOQUaeiou3R#%*()"),
        prefix(1, "&679AEIOQUaeiou3R#%*()"), prefix(2, "&679AEIOQUaeiou3R#%*()"),
        prefix(3, "&679AEIOQUaeiou3R#%*()"),
        suffix(1, "&679AEIOQUaeiou3R#%*()"), suffix(2, "&679AEIOQUaeiou3R#%*()"),
        suffix(3, "&679AEIOQUaeiou3R#%*()")
    ],
    l2: 1.0
}

train { iterations: 100, tolerance: 1e-7, seed: 0 }

proc utterance(i) {
    if i == len(chars) {
        no ~ more
    } else {
        yes ~ more
        for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {
            chars[i..j] ~ word
            weight exp(-(j - i) ^ 1.6)
            utterance(j)
        }
    }
}

model {
    utterance(0)
}
