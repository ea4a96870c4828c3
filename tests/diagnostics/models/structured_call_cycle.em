# A unary rule loop: a nonterminal over a span rewrites to itself over the same span, so the
# call depends on itself and its derivations never end.
domain NT = {S, A}
domain Term = vocabulary(words)
data words : [Term]
param unary : Categorical(NT | NT)
param emit : Categorical(Term | NT)

proc span(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    }
    hidden y : NT
    y ~ unary(x)
    span(y, i, k)
}

model { span(S, 0, len(words)) }
