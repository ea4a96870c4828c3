# `within` after a deterministic table: there is no row to normalise.
domain Pos = 0..4
data x : [Pos]
table same(Pos) -> Pos { 0 -> 0  1 -> 1  2 -> 2  3 -> 3 }

proc go(i) {
    if i < len(x) {
        x[i] ~ same(x[i]) within 0 .. 2
        go(i + 1)
    }
}

model { go(0) }
