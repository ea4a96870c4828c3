# Two procedures that undo each other's step: `even` moves on one position and `odd` moves
# back, so the pair comes back where it started.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc even(i) {
    if i < len(words) {
        words[i] ~ emit
        odd(i + 1)
    }
}

proc odd(i) {
    if i < len(words) {
        even(i - 1)
    }
}

model { even(0) }
