# A Latin-1 byte (0xE9) in a name on line 6.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param tossé : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    let s = [[H]]
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
