# Tags over a closed vocabulary collected from training data (a good model).
domain Word = vocabulary(words)
domain Tag = {N, V}
data words : [Word]
param start : Categorical(Tag)
param emit : Categorical(Word | Tag)
train { iterations: 2 }

model {
    hidden t : [Tag; len(words)]
    for i in 0..len(words) {
        t[i] ~ start
        words[i] ~ emit(t[i])
    }
}
