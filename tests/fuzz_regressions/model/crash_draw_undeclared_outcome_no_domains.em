param toss : a(F)
model { h ~ toss }
