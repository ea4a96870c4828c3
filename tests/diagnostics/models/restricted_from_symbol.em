# `from` adds a width to a position: the drawn value must be a position too.
const MAXLEN = 5
domain Pos = 0..MAXLEN + 1
domain Jump = 0 - MAXLEN..MAXLEN + 1
domain Gate = {word, empty}
data f : [Pos]
param jump : Categorical(Jump)

proc step(j, prev : Pos) {
    if j < len(f) {
        hidden g : Gate
        g ~ jump from prev within 1 .. len(f) + 1
        step(j + 1, prev)
    }
}

model { step(0, 0) }
