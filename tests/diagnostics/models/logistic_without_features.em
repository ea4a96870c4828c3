# A Logistic family with no feature templates, one with a categorical-only option, and an
# integer-distance template on symbols.
domain State = {A, B}
domain Word  = vocabulary(words)
data words : [Word]
param start : Categorical(State)
param emit  : Logistic(Word | State) { l2: 0.1 }
param other : Logistic(Word | State) { features: [distance(3)], smoothing: 1 }
model {
    hidden z : State
    z ~ start
    for i in 0..len(words): words[i] ~ emit(z)
}
