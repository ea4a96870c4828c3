param t : Categorical(F | G)
model { h ~ t(1) }
