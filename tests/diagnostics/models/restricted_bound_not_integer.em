# The bounds of `within` are integers (or positions), not symbols.
domain Pos = 0..4
domain Coin = {A, B}
data c : Coin ||| x : [Pos]
param p : Categorical(Pos)

proc go(i) {
    if i < len(x) {
        x[i] ~ p within 0 .. c
        go(i + 1)
    }
}

model { go(0) }
