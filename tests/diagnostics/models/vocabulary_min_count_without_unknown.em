# Rare words need a symbol to become; also `min_cout` is misspelt.
domain Word = vocabulary(words, min_count = 2, min_cout = 3)
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
