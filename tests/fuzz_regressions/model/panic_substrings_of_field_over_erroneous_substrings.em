domain D3 = substrings(f1, max_len = -9223372036854775808)
domain D4 = substrings(f2, max_len = -9223372036854775808)
domain D5 = substrings(f2, max_len = 0)
data f1 : Real, f2 : [D3]
param p6 : Logistic(D3)
model {
    hidden h7 : D3
}
