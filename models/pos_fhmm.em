# Part-of-speech induction with a featurised HMM (Berg-Kirkpatrick et al. 2010, section 5.1):
# the emission distribution of each state is a logistic regression over word identity,
# whether the word has a digit, a hyphen or an initial capital, and its suffixes of length
# 1 to 3, each conjoined with the state. Transitions stay categorical. Same data, number of
# states and initialisation scheme as models/pos_hmm.em, the basic HMM it is compared with.
#
#   emc run models/pos_fhmm.em DATA                      # Algorithm 1: EM, L-BFGS M-step
#   emc run models/pos_fhmm.em DATA --algorithm direct   # Algorithm 2: L-BFGS on log P(data)

const K = 49
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Logistic(Word | State) {
    features: [word, digit, hyphen, capital, suffix(1), suffix(2), suffix(3)],
    l2: 1.0
}

train { iterations: 30, tolerance: 0, seed: 0 }

model {
    hidden tag : [State; len(words)]
    tag[0] ~ start
    for i in 1..len(words): tag[i] ~ trans(tag[i-1])
    for i in 0..len(words): words[i] ~ emit(tag[i])
}
