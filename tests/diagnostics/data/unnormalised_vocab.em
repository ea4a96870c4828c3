# `emit` has a vocabulary outcome, so its shape is only known from the data: five words are
# collected, the init gives two per row.
domain Word = vocabulary(words)
domain Tag = {N, V}
data words : [Word]
param start : Categorical(Tag)
param emit : Categorical(Word | Tag) { init: [[0.5, 0.5], [0.5, 0.5]] }
train { iterations: 2 }

model {
    hidden t : [Tag; len(words)]
    for i in 0..len(words) {
        t[i] ~ start
        words[i] ~ emit(t[i])
    }
}
