# A weight's exponent is a sum of `c * x ^ p` of known integers x and finite numbers c, p:
# a power past f64, a symbol as a base and an unknown name are each refused at their place.
const MAXLEN = 3
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
data chars : [Char]
param word : Categorical(Word)
proc seg(i) {
    if i < len(chars) {
        for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {
            chars[i..j] ~ word
            weight exp(-(j - i) ^ 1e999 + 2 * chars[i] - lenght)
            seg(j)
        }
    }
}
model { seg(0) }
