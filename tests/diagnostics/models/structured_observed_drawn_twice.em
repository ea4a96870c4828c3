# A structured story must draw each data value once on every derivation (issue 16).
domain State = 0..3
domain Word  = vocabulary(words)
data words : [Word]

param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)

proc tag(i, prev : State) {
    if i < len(words) {
        hidden z : State
        z ~ trans(prev)
        words[i] ~ emit(z)
        if i == 2 { words[i] ~ emit(z) }
        tag(i + 1, z)
    }
}

model {
    hidden z : State
    z ~ start
    words[0] ~ emit(z)
    tag(1, z)
}
