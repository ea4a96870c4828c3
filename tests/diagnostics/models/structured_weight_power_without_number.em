# A weight is written `weight exp(...)`, its exponent's terms `c * x ^ p`: a power without
# its number is a syntax error that says what was expected.
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = 2)
data chars : [Char]
param word : Categorical(Word)
proc seg(i) {
    if i < len(chars) {
        for some j in i + 1 .. min(i + 2, len(chars)) + 1 {
            chars[i..j] ~ word
            weight exp(-(j - i) ^)
            seg(j)
        }
    }
}
model { seg(0) }
