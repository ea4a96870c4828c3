# Two procedures with one name: a call could not say which it means.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        walk(i + 1)
    }
}

proc walk(i) {
    words[i] ~ emit
}

model { walk(0) }
