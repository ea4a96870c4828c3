# A Logistic family's M-step tolerance out of its range, and misspelt.
const K = 3
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param trans : Categorical(State | State)
param emit  : Logistic(Word | State) {
    features: [word, suffix(2)],
    m_step_tolerance: 1.5,
    m_step_tol: 0.01
}
model {
    hidden z : [State; len(words)]
    z[0] ~ trans(0)
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
