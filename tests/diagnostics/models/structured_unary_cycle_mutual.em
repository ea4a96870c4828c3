# A unary cycle through two procedures: a phrase rewrites to a bar-level phrase over the same
# span, which rewrites back to a phrase over the same span, so derivations need never end.
domain NT = {S, A}
domain Term = vocabulary(words)
data words : [Term]
param unary : Categorical(NT | NT)
param emit : Categorical(Term | NT)

proc phrase(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    } else {
        hidden y : NT
        y ~ unary(x)
        bar(y, i, k)
    }
}

proc bar(x : NT, i, k) {
    hidden y : NT
    y ~ unary(x)
    phrase(y, i, k)
}

model { phrase(S, 0, len(words)) }
