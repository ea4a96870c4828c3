# Part-of-speech induction with a basic HMM (the baseline of Berg-Kirkpatrick et al. 2010) on
# UD English EWT: as many hidden states as the 49 XPOS tags; models/pos_hmm.gold holds the
# gold tags, and `emc eval --metric many-to-one` scores the Viterbi states against them.
# models/pos_hmm.txt is the first 2,000 training sentences; scripts/pos-induction.sh runs the
# whole training set.

const K = 49
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)

train { iterations: 30, tolerance: 0, seed: 0 }

model {
    hidden tag : [State; len(words)]
    tag[0] ~ start
    for i in 1..len(words): tag[i] ~ trans(tag[i-1])
    for i in 0..len(words): words[i] ~ emit(tag[i])
}
