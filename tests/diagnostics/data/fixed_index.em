# Reads the fourth toss of every line: fine on the probe (length 4), not on shorter lines.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
train { iterations: 2 }

model {
    hidden coin : Coin
    coin ~ choice
    tosses[3] ~ toss(coin)
}
