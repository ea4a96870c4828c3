# A recursion with no base case that reaches the end: each call makes a new one.
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)

proc walk(i) {
    walk(i + 1)
}

model { walk(0) }
