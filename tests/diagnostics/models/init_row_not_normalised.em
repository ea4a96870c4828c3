# `emc run` refuses initial values whose rows do not sum to 1, so `emc check` refuses them too:
# the row of `toss` for coin `A` sums to 1.1, and the second row of `given`, whose condition is a
# vocabulary (its words are known only with the data), sums to 0.9.
domain Coin = {A, B}
domain Face = {H, T}
domain Word = vocabulary(words)
data tosses : [Face] ||| words : [Word]
param choice : Categorical(Coin) { fixed, init: [0.5, 0.5] }
param toss : Categorical(Face | Coin) {
    init: [[0.6, 0.5],
           [0.5, 0.5]]
}
param given : Categorical(Coin | Word) { init: [[0.5, 0.5], [0.5, 0.4]] }
train { iterations: 2 }

model {
    hidden coin : Coin
    hidden guess : [Coin; len(words)]
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
    for j in 0..len(words): guess[j] ~ given(words[j])
}
