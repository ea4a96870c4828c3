# `emit` is conditioned on a `Tag`; it is given a `Word`.
domain Word = vocabulary(words)
domain Tag = {N, V}
data words : [Word]
param start : Categorical(Tag)
param emit : Categorical(Word | Tag)

model {
    hidden t : [Tag; len(words)]
    for i in 0..len(words) {
        t[i] ~ start
        words[i] ~ emit(words[i])
    }
}
