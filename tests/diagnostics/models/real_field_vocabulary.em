# A vocabulary collected from a real-valued field.
domain Word = vocabulary(x)
data x : Real
param g : Gaussian(Real)

model {
    x ~ g
}
