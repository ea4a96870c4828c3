# A span that runs past the end of the line: `j` goes up to `len(chars) + 1`.
domain Char = vocabulary(chars)
domain Word = substrings(chars, max_len = 4)
data chars : [Char]
param word : Categorical(Word)

proc utterance(i) {
    if i < len(chars) {
        for some j in i + 1 .. len(chars) + 2 {
            chars[i..j] ~ word
            utterance(j)
        }
    }
}

model { utterance(0) }
