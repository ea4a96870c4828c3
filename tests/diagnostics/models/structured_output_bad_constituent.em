# A constituent is labelled by a symbol and covers a slice of a sequence field: an integer
# label and a single word are refused, each at its place.
domain NT = {S, A}
domain Word = vocabulary(words)
data words : [Word]
param emit : Categorical(Word | NT)
proc span(x : NT, i, k) {
    output (i words[i..k])
    output (x words[i])
    if k == i + 1 {
        words[i] ~ emit(x)
    }
}
model { span(S, 0, len(words)) }
