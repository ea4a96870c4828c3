# A 2-D reading and a sequence of 2-D readings per line (a good model).
domain Mode = {idle, busy}
data reading : Real[2] ||| track : [Real[2]]
param mode : Categorical(Mode)
param first : Gaussian(Real[2] | Mode)
param rest : Gaussian(Real[2] | Mode) { covariance: diagonal }
model {
    hidden m : Mode
    m ~ mode
    reading ~ first(m)
    for i in 0..len(track): track[i] ~ rest(m)
}
