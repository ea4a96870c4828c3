//! Integer facts about a structured story's positions, as difference bounds: every fact the
//! analysis keeps has the form `x - y <= c` over a few variables (procedure parameters, loop
//! and `for some` positions, the lengths of the data's sequences, and zero). That is the
//! shape the facts of a CKY-style story take (`i + 1 <= j <= k - 1`, `i < len(words)`), the
//! closure is a small Floyd-Warshall, and what is not of that shape is dropped, which only
//! makes the analysis refuse more: it never proves what does not hold.

use std::collections::BTreeMap;

use crate::model::{FieldId, LocalId};

/// A variable of a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Var {
    /// The constant 0: `x <= 5` is `x - Zero <= 5`.
    Zero,
    /// `len(field)`: the same for every call of one line.
    Len(FieldId),
    Local(LocalId),
    /// The value a call passes for its callee's `k`-th parameter.
    Arg(usize),
    /// A value the analysis names without knowing it (`min(a, b)`, a product).
    Fresh(u32),
}

/// `sum coef * var + c`, with no zero coefficients.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Lin {
    pub terms: BTreeMap<Var, i64>,
    pub c: i64,
}

impl Lin {
    pub fn constant(c: i64) -> Lin {
        Lin {
            terms: BTreeMap::new(),
            c,
        }
    }

    pub fn var(v: Var) -> Lin {
        Lin {
            terms: BTreeMap::from([(v, 1)]),
            c: 0,
        }
    }

    /// `self + k * other`, or `None` on overflow (then the fact is dropped).
    pub fn plus(&self, k: i64, other: &Lin) -> Option<Lin> {
        let mut out = self.clone();
        for (v, a) in &other.terms {
            let e = out.terms.entry(*v).or_insert(0);
            *e = e.checked_add(a.checked_mul(k)?)?;
            if *e == 0 {
                out.terms.remove(v);
            }
        }
        out.c = out.c.checked_add(other.c.checked_mul(k)?)?;
        Some(out)
    }

    pub fn minus(&self, other: &Lin) -> Option<Lin> {
        self.plus(-1, other)
    }

    pub fn shift(&self, c: i64) -> Option<Lin> {
        self.plus(1, &Lin::constant(c))
    }

    pub fn scale(&self, k: i64) -> Option<Lin> {
        Lin::default().plus(k, self)
    }

    /// `self >= 0` as `x - y <= c`, when it has that shape.
    fn as_difference(&self) -> Option<(Var, Var, i64)> {
        let t: Vec<(Var, i64)> = self.terms.iter().map(|(v, k)| (*v, *k)).collect();
        // a*x + b*y + c >= 0
        match t.as_slice() {
            [] => None,
            [(x, 1)] => Some((Var::Zero, *x, self.c)),
            [(x, -1)] => Some((*x, Var::Zero, self.c)),
            [(x, 1), (y, -1)] => Some((*y, *x, self.c)),
            [(x, -1), (y, 1)] => Some((*x, *y, self.c)),
            _ => None,
        }
    }
}

/// A conjunction of difference bounds, closed on demand. `d[x][y]` bounds `x - y` from above
/// (`None`: no bound).
#[derive(Clone, Debug)]
pub struct Bounds {
    vars: Vec<Var>,
    d: Vec<Vec<Option<i64>>>,
    /// The facts contradict each other: nothing reaches here.
    empty: bool,
}

impl Default for Bounds {
    fn default() -> Bounds {
        let mut b = Bounds {
            vars: Vec::new(),
            d: Vec::new(),
            empty: false,
        };
        b.index(Var::Zero);
        b
    }
}

/// Bounds are kept small: past this the sum saturates to "no bound".
const HUGE: i64 = 1 << 40;

fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    let s = a?.checked_add(b?)?;
    (s.abs() < HUGE).then_some(s)
}

impl Bounds {
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    fn index(&mut self, v: Var) -> usize {
        if let Some(i) = self.vars.iter().position(|w| *w == v) {
            return i;
        }
        self.vars.push(v);
        for row in &mut self.d {
            row.push(None);
        }
        let n = self.vars.len();
        let mut row = vec![None; n];
        row[n - 1] = Some(0);
        self.d.push(row);
        n - 1
    }

    fn find(&self, v: Var) -> Option<usize> {
        self.vars.iter().position(|w| *w == v)
    }

    /// `x - y <= c`.
    pub fn le(&mut self, x: Var, y: Var, c: i64) {
        if c.abs() >= HUGE {
            return;
        }
        let (i, j) = (self.index(x), self.index(y));
        if self.d[i][j].is_none_or(|old| c < old) {
            self.d[i][j] = Some(c);
        }
    }

    /// Adds `lin >= 0` if it is a difference bound; a constant that is negative empties
    /// the bounds.
    pub fn assume(&mut self, lin: &Lin) {
        if lin.terms.is_empty() {
            if lin.c < 0 {
                self.empty = true;
            }
            return;
        }
        if let Some((x, y, c)) = lin.as_difference() {
            self.le(x, y, c);
        }
    }

    /// Floyd-Warshall; a negative cycle means the facts cannot all hold.
    pub fn close(&mut self) {
        let n = self.vars.len();
        for k in 0..n {
            for i in 0..n {
                if self.d[i][k].is_none() {
                    continue;
                }
                for j in 0..n {
                    let via = add(self.d[i][k], self.d[k][j]);
                    if via.is_some() && self.d[i][j].is_none_or(|old| via.unwrap() < old) {
                        self.d[i][j] = via;
                    }
                }
            }
        }
        if (0..n).any(|i| self.d[i][i].is_some_and(|c| c < 0)) {
            self.empty = true;
        }
    }

    /// The least `c` known with `x - y <= c` (after `close`).
    pub fn upper(&self, x: Var, y: Var) -> Option<i64> {
        if x == y {
            return Some(0);
        }
        self.d[self.find(x)?][self.find(y)?]
    }

    /// Whether `lin >= 0` follows (after `close`). Empty bounds imply everything.
    pub fn implies(&self, lin: &Lin) -> bool {
        if self.empty {
            return true;
        }
        if lin.terms.is_empty() {
            return lin.c >= 0;
        }
        match lin.as_difference() {
            // `lin >= 0` is `y - x >= -c`, i.e. `x - y <= c`... checked against what is known
            // of `x - y`.
            Some((x, y, c)) => self.upper(x, y).is_some_and(|u| u <= c),
            None => false,
        }
    }

    /// Whether `lin` is bounded from below (after `close`): some `c` with `lin >= c`.
    pub fn bounded_below(&self, lin: &Lin) -> bool {
        if self.empty || lin.terms.is_empty() {
            return true;
        }
        // `lin - c >= 0` for some c: as a difference `x - y <= c'`, a known upper bound.
        match lin.as_difference() {
            Some((x, y, _)) => self.upper(x, y).is_some(),
            None => false,
        }
    }

    /// The bounds among `keep`, renamed by `rename` (the rest projected out; after `close`).
    pub fn project(&self, keep: &[(Var, Var)]) -> Bounds {
        let mut out = Bounds::default();
        if self.empty {
            out.empty = true;
            return out;
        }
        for (x, xn) in keep {
            for (y, yn) in keep {
                if x != y {
                    if let Some(c) = self.upper(*x, *y) {
                        out.le(*xn, *yn, c);
                    }
                }
            }
        }
        out
    }

    /// Whether every fact of `other` is at most as strong as one of `self`'s: the least upper
    /// bound of two states over the same variables, each bound the weaker of the two (or,
    /// widening, dropped when it moved). Returns whether `self` changed.
    pub fn join(&mut self, other: &Bounds, widen: bool) -> bool {
        if other.empty {
            return false;
        }
        if self.empty {
            *self = other.clone();
            return true;
        }
        let mut changed = false;
        let vars = self.vars.clone();
        for (i, x) in vars.iter().enumerate() {
            for (j, y) in vars.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (mine, theirs) = (self.d[i][j], other.upper(*x, *y));
                let joined = match (mine, theirs) {
                    (Some(a), Some(b)) if b <= a => Some(a),
                    (Some(_), Some(b)) if !widen => Some(b),
                    _ => None,
                };
                if joined != mine {
                    self.d[i][j] = joined;
                    changed = true;
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_chain_through_a_split() {
        // i + 1 <= j <= k - 1 gives k - i >= 2 and j - i >= 1.
        let (i, j, k) = (Var::Local(0), Var::Local(1), Var::Local(2));
        let mut b = Bounds::default();
        b.assume(&Lin::var(j).minus(&Lin::var(i)).unwrap().shift(-1).unwrap());
        b.assume(&Lin::var(k).minus(&Lin::var(j)).unwrap().shift(-1).unwrap());
        b.close();
        assert_eq!(b.upper(i, k), Some(-2));
        assert!(b.implies(&Lin::var(k).minus(&Lin::var(i)).unwrap().shift(-2).unwrap()));
        assert!(!b.implies(&Lin::var(k).minus(&Lin::var(i)).unwrap().shift(-3).unwrap()));
        assert!(b.bounded_below(&Lin::var(k).minus(&Lin::var(i)).unwrap()));
        assert!(!b.bounded_below(&Lin::var(i)));
    }

    #[test]
    fn contradictory_facts_empty_the_bounds() {
        let x = Var::Local(0);
        let mut b = Bounds::default();
        b.le(x, Var::Zero, -1);
        b.le(Var::Zero, x, -1);
        b.close();
        assert!(b.is_empty());
        assert!(b.implies(&Lin::constant(-5)));
    }

    #[test]
    fn join_keeps_the_weaker_bound_and_widening_drops_a_moving_one() {
        let x = Var::Local(0);
        let mut a = Bounds::default();
        a.le(x, Var::Zero, 3);
        let mut b = Bounds::default();
        b.le(x, Var::Zero, 5);
        let mut j = a.clone();
        assert!(j.join(&b, false));
        assert_eq!(j.upper(x, Var::Zero), Some(5));
        let mut w = a.clone();
        assert!(w.join(&b, true));
        assert_eq!(w.upper(x, Var::Zero), None);
        assert!(!j.join(&a, false));
    }
}
