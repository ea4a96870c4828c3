domain S = {a}
data w : S
model { for i in 0..9223372036854775807 { } }
