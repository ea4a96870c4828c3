# A condition on a whole sequence: `if` compares integers or symbols, not sequences.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if words == 3 {
        words[i] ~ emit
        walk(i + 1)
    }
}

model { walk(0) }
