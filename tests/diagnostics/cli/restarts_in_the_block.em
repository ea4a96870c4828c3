# Two coins (Do & Batzoglou 2008, Nature Biotechnology 26:897, Figure 1).
# Each line is ten tosses of one of two coins; which coin is hidden and chosen with a fixed
# probability 1/2. EM learns each coin's probability of heads from thetaA = 0.6, thetaB = 0.5.

domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]

param choice : Categorical(Coin) { fixed, init: [0.5, 0.5] }
param toss   : Categorical(Face | Coin) {
    init: [[0.6, 0.4],    # A
           [0.5, 0.5]]    # B
}

train { iterations: 10, tolerance: 0, restarts: 1000000000000 }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
