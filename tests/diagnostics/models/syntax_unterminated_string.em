# The unknown-word string is never closed.
domain Word = vocabulary(words, unknown = "<unk>)
domain Tag = {N, V}
data words : [Word]
param start : Categorical(Tag)
param emit : Categorical(Word | Tag)

model {
    hidden t : [Tag; len(words)]
    for i in 0..len(words) {
        t[i] ~ start
        words[i] ~ emit(t[i])
    }
}
