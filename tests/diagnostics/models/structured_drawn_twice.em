# A hidden local drawn twice in one branch.
domain State = 0..2
domain Term = vocabulary(words)
data words : [Term]
param start : Categorical(State)
param emit : Categorical(Term | State)

proc tag(i) {
    if i < len(words) {
        hidden z : State
        z ~ start
        z ~ start
        words[i] ~ emit(z)
        tag(i + 1)
    }
}

model { tag(0) }
