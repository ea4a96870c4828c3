domain NT = {S, NP, VP}
domain Term = vocabulary(words)
data words : [Term]
param root : Categorical(NT)
param left : Categorical(NT | NT)
param right : Categorical(NT | NT)
param emit : Categorical(Term | NT)

proc span(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    } else {
        for some j in i + 1 .. k {
            hidden y : NT
            hidden z : NT
            y ~ left(x)
            z ~ right(x)
            span(y, i, j)
            span(z, j, k)
        }
    }
}

model {
    hidden s : NT
    s ~ root
    span(s, 0, len(words))
}
