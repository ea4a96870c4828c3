# An initial table whose condition domain is unknown (so empty): no panic naming its rows.
domain D = Nope
param p : Categorical(D | D) { init: [] }
model { }
