# A segmenter whose weight is a fractional power of a base that turns negative on lines
# longer than 5 (the probe's lines are 4 long, so `emc check` passes): the exponent is no
# number there, and the data line that reaches it is named.
const MAXLEN = 3
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = MAXLEN)
data chars : [Char]
param word : Categorical(Word)
proc seg(i) {
    if i < len(chars) {
        for some j in i + 1 .. min(i + MAXLEN, len(chars)) + 1 {
            chars[i..j] ~ word
            weight exp(-(5 - len(chars)) ^ 1.5)
            seg(j)
        }
    }
}
model { seg(0) }
