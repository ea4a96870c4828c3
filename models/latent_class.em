# A latent class model (mixture of categoricals over bags of words): each line's words are
# drawn from the word distribution of one hidden class. The data has three planted classes
# (scripts/make_latent_class.py); models/latent_class.gold holds them for scoring.

const K = 3
domain Class = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param prior : Categorical(Class)
param word  : Categorical(Word | Class)

train { iterations: 200, tolerance: 1e-9, restarts: 5, seed: 1 }

model {
    hidden class : Class
    class ~ prior
    for i in 0..len(words): words[i] ~ word(class)
}
