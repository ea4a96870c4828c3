# Sparse storage in a structured story: its tables are stored whole.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term) { storage: sparse }

proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        walk(i + 1)
    }
}

model { walk(0) }
