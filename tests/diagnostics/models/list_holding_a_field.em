# A list holding a whole sequence field.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    let s = [tosses]
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
