# A position tested against the end but moved the other way: `i - 1` falls for ever (the
# draw after the call never bounds it).
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if i < len(words) {
        walk(i - 1)
        words[i] ~ emit
    }
}

model { walk(0) }
