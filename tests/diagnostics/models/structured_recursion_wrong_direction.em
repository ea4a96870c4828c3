# A position tested against the end but moved the other way: `i - 1` falls for ever.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        walk(i - 1)
    }
}

model { walk(0) }
