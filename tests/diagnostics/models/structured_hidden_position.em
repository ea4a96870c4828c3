# A hidden position in a structured story: a position is chosen with `for some`.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc pick(i) {
    hidden j : 0..len(words)
    words[i] ~ emit
}

model { pick(0) }
