# A procedure whose only argument is a symbol: a chain of states with no position, which
# nothing makes end.
domain State = {A, B, C}
domain Term = vocabulary(words)
data words : [Term]
param trans : Categorical(State | State)
param emit : Categorical(Term | State)

proc chain(s : State) {
    hidden t : State
    t ~ trans(s)
    chain(t)
}

model { chain(A) }
