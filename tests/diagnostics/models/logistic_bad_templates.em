# Logistic feature templates that do not exist, take the wrong arguments, or are conjoined
# with a condition the family does not have.
const K = 3
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param trans : Categorical(State | State)
param emit  : Logistic(Word | State) {
    features: [word, sufix(3), suffix, prefix(0), digit(2), by(1, word), shared(bogus), 0.5],
    l2: -1
}
model {
    hidden z : [State; len(words)]
    z[0] ~ trans(0)
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
