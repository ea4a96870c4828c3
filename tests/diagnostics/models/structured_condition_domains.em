# A condition comparing symbols of two different domains.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

proc flip(c : Coin, i) {
    if i < len(tosses) {
        if c == tosses[i] {
            tosses[i] ~ toss(c)
        } else {
            tosses[i] ~ toss(B)
        }
        flip(c, i + 1)
    }
}

model {
    hidden coin : Coin
    coin ~ choice
    flip(coin, 0)
}
