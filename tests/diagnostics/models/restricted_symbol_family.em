# `within` on a family over symbols: the allowed outcomes are a range of integers.
domain Tag = {N, V, D}
data words : [Tag]
param next : Categorical(Tag | Tag)

proc tag(i, prev : Tag) {
    if i < len(words) {
        words[i] ~ next(prev) within 0 .. 2
        tag(i + 1, words[i])
    }
}

model { tag(0, N) }
