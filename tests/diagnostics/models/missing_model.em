# No `model` block.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
