# A list of lists, even unused: values of the story are single values or sequences of them.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    let s = [[H]]
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
