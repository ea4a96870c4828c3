# Four nested splits in one procedure: a line of n words makes about n^4 hyperedges.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc quad(i) {
    for some a in 0..len(words) {
        for some b in 0..len(words) {
            for some c in 0..len(words) {
                for some d in 0..len(words) {
                    for k in 0..len(words): words[k] ~ emit
                }
            }
        }
    }
}

model { quad(0) }
