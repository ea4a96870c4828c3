# Eisner's ice-cream HMM (2002, "An interactive spreadsheet for teaching the forward-backward
# algorithm"): a summer's daily ice-cream counts, hidden hot (H) and cold (C) days, with
# explicit start and stop states.

domain State = {C, H}
domain Prev  = State + {START}
domain Next  = State + {STOP}
domain Ice   = 1..4
data ice : [Ice]

param trans : Categorical(Next | Prev) {
    init: [[0.8, 0.1, 0.1],     # from C: to C, H, STOP
           [0.1, 0.8, 0.1],     # from H
           [0.5, 0.5, 0.0]]     # from START
}
param emit : Categorical(Ice | State) {
    init: [[0.7, 0.2, 0.1],     # C eats 1, 2, 3
           [0.1, 0.2, 0.7]]     # H
}

train { iterations: 10, tolerance: 0 }

model {
    hidden day : [State; len(ice)]
    day[0] ~ trans(START)
    for i in 1..len(ice): day[i] ~ trans(day[i-1])
    STOP ~ trans(day[len(ice) - 1])
    for i in 0..len(ice): ice[i] ~ emit(day[i])
}
