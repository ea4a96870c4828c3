# A call of a procedure whose name is misspelt.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        wlak(i + 1)
    }
}

model { walk(0) }
