# A split point that may sit at the span's end: `span(i, j)` with `j == k` is the same span,
# so the recursion need not shrink (the split range should be `i + 1 .. k`).
domain NT = {S, A}
domain Term = vocabulary(words)
data words : [Term]
param rule : Categorical(NT | NT)
param emit : Categorical(Term | NT)

proc span(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    } else {
        for some j in i + 1 .. k + 1 {
            hidden y : NT
            y ~ rule(x)
            span(y, i, j)
            span(y, j, k)
        }
    }
}

model { span(S, 0, len(words)) }
