# Draws the first four tosses of every line: fine on the probe (length 4), not on shorter
# lines (an index out of range) nor on longer ones (a toss never drawn).
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
train { iterations: 2 }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..4: tosses[i] ~ toss(coin)
}
