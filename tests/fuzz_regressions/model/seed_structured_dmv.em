domain Tag = vocabulary(tags)
domain Stop = {stop, go}
domain Dir = {L, R}
data tags : [Tag]
param root : Categorical(Tag)
param stop : Categorical(Stop | Tag, Dir)
param attach : Categorical(Tag | Tag, Dir)

proc tree(h, l, r) {
    left(h, l, h)
    right(h, h + 1, r)
}

proc right(h, i, r) {
    if i == r {
        stop ~ stop(tags[h], R)
    } else {
        go ~ stop(tags[h], R)
        for some a in i .. r {
            for some m in a + 1 .. r + 1 {
                tags[a] ~ attach(tags[h], R)
                tree(a, i, m)
                right(h, m, r)
            }
        }
    }
}

proc left(h, l, i) {
    if i == l {
        stop ~ stop(tags[h], L)
    } else {
        go ~ stop(tags[h], L)
        for some m in l .. i {
            for some a in m .. i {
                tags[a] ~ attach(tags[h], L)
                tree(a, m, i)
                left(h, l, m)
            }
        }
    }
}

model {
    for some h in 0 .. len(tags) {
        tags[h] ~ root
        tree(h, 0, len(tags))
    }
}
