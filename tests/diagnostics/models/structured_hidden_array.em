# A hidden array at the top of a structured story: hidden values are drawn one at a time.
domain State = 0..3
domain Term = vocabulary(words)
data words : [Term]
param trans : Categorical(State | State)
param emit : Categorical(Term | State)

proc tag(i, prev : State) {
    if i < len(words) {
        hidden z : State
        z ~ trans(prev)
        words[i] ~ emit(z)
        tag(i + 1, z)
    }
}

model {
    hidden z : [State; len(words)]
    tag(0, 0)
}
