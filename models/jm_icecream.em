# Jurafsky & Martin's ice-cream HMM (Speech and Language Processing, 3rd ed., Appendix A):
# the likelihood of 3 1 3 and its Viterbi path, from the book's parameters.

domain State = {H, C}
domain Ice   = 1..4
data ice : [Ice]

param start : Categorical(State) { init: [0.8, 0.2] }
param trans : Categorical(State | State) {
    init: [[0.6, 0.4],          # from H: to H, C
           [0.5, 0.5]]          # from C
}
param emit : Categorical(Ice | State) {
    init: [[0.2, 0.4, 0.4],     # H eats 1, 2, 3
           [0.5, 0.4, 0.1]]     # C
}

train { iterations: 5, tolerance: 0 }

model {
    hidden weather : [State; len(ice)]
    weather[0] ~ start
    for i in 1..len(ice): weather[i] ~ trans(weather[i-1])
    for i in 0..len(ice): ice[i] ~ emit(weather[i])
}
