#e | Coin)

model {
    hid            