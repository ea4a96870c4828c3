# A procedure called with the wrong number of arguments.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        walk(i + 1, 0)
    }
}

model { walk(0) }
