domain D = substrings(f, max_len = 3)
data f : [D]
model { }
