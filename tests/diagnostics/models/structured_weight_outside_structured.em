# A fixed factor weighs the derivations of a structured story; a story without procedures
# has one derivation per line, so `weight` is refused there, at the statement.
domain Coin = {H, T}
data toss : Coin
param p : Categorical(Coin)
model {
    toss ~ p
    weight exp(-2)
}
