domain D = {H}
data w : [D]
model {
 let s = [[H]]
 w[0] ~ uniform
}
