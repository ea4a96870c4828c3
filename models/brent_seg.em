# Unigram word segmentation with a word-length penalty, the basic model of Berg-Kirkpatrick
# et al. (2010, "Painless unsupervised learning with features", section 5, word
# segmentation on the Brent corpus), which follows Liang & Klein (2009, "Online EM for
# unsupervised models"): each word w of a segmentation is drawn from a unigram lexicon and
# its probability is multiplied by the fixed penalty exp(-|w|^beta), beta = 1.6 (their value
# for English), without which maximum likelihood prefers one word per utterance. The papers'
# text was not at hand here: the form and beta are as the issue states them and as a public
# reimplementation gives them (levinboimtomer/penalized_unigram_segmentation, Segmenter.py:
# "For English, we used beta = 1.6", each segment weighted by exp(-|w|^beta); that code
# also divides the weights by their sum over lengths, a further constant per word that this
# model does not apply).
#
# What EM maximises (it is monotone in it; the trace reports it): over the lines x,
#   sum_x log sum_{segmentations w_1..w_k of x}
#            more(yes)^k more(no) prod_i word(w_i) exp(-|w_i|^1.6),
# the log of a weighted sum, not a normalised likelihood: the penalty is a `weight`, a fixed
# factor that is neither a probability nor learned. The E-step's posteriors over
# segmentations carry the penalty; the M-step is the usual count-and-divide. `more` (a
# geometric number of words) is learned; the penalties' product does not depend on it.
#
# The lexicon is every span of the data of at most MAXLEN = 10 phonemes (the issue's value,
# not checked against the papers; Brent's gold words: 33,398 of 33,399 tokens are at most 10
# long; one is 11, which no segmentation here can recover). `emc check` on the corpus: 115,389
# calls and 593,948 hyperedges in all, at most 487 on a line, 18.6 MiB of hypergraphs. Input: a line's phonemes space-separated without word boundaries
# (`scripts/data/brent.py`); `scripts/brent-segmentation.sh` trains, decodes and scores it.
# data: segmentation.txt

const MAXLEN = 10
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
domain More = {yes, no}
data chars : [Char]

param more : Categorical(More)
param word : Categorical(Word)

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
