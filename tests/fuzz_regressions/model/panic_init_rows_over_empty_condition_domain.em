domain D = Nope
param p : Categorical(D | D) { init: [] }
model { }
