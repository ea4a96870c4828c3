//! What decoding prints for compiled hidden variables, held as runs rather than a record per
//! variable.

use crate::graph::{VarDomain, VarOrigin};

/// Consecutive hidden variables of one declaration (or data field) at consecutive indices,
/// with one domain: IBM Model 1's alignment of a sentence pair is one run, where a record per
/// variable took more memory than the entries' indices.
#[derive(Clone, Copy)]
pub(super) struct Run {
    pub origin: VarOrigin,
    pub domain: VarDomain,
    pub len: u32,
}

impl Run {
    /// Whether a variable of this origin and domain comes next in the run.
    pub fn extends_to(&self, origin: VarOrigin, domain: VarDomain) -> bool {
        domain == self.domain && Some(origin) == self.nth(self.len as usize)
    }

    /// The origin of the run's variable `n`, if it has that variable's index.
    fn nth(&self, n: usize) -> Option<VarOrigin> {
        let at = |index: Option<usize>| index.and_then(|i| i.checked_add(n));
        match self.origin {
            VarOrigin::Hidden { decl, index } => at(index).map(|i| VarOrigin::Hidden {
                decl,
                index: Some(i),
            }),
            VarOrigin::Missing { field, index } => at(index).map(|i| VarOrigin::Missing {
                field,
                index: Some(i),
            }),
        }
    }

    /// Its variables' origins and domains, in order.
    pub fn vars(&self) -> impl Iterator<Item = (VarOrigin, VarDomain)> + '_ {
        (0..self.len as usize).map(|n| {
            let origin = self.nth(n).unwrap_or(self.origin);
            (origin, self.domain)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Run;
    use crate::graph::{VarDomain, VarOrigin};

    fn runs(vars: &[(VarOrigin, VarDomain)]) -> Vec<Run> {
        let mut out: Vec<Run> = Vec::new();
        for (origin, domain) in vars {
            match out.last_mut() {
                Some(run) if run.extends_to(*origin, *domain) => run.len += 1,
                _ => out.push(Run {
                    origin: *origin,
                    domain: *domain,
                    len: 1,
                }),
            }
        }
        out
    }

    /// Runs give back the variables they were made of: an array's elements in order share
    /// a run; a scalar, a gap in the indices, another declaration or domain starts a new one.
    #[test]
    fn runs_give_back_their_variables() {
        let hidden = |decl, index| VarOrigin::Hidden { decl, index };
        let missing = |field, index| VarOrigin::Missing { field, index };
        let (ints, syms) = (VarDomain::Integers(0), VarDomain::Symbols(2));
        let vars = [
            (hidden(0, Some(0)), ints),
            (hidden(0, Some(1)), ints),
            (hidden(0, Some(2)), ints),
            (hidden(0, Some(4)), ints),
            (hidden(0, Some(5)), syms),
            (hidden(1, None), ints),
            (hidden(1, None), ints),
            (hidden(2, Some(6)), ints),
            (missing(0, Some(7)), syms),
            (missing(0, Some(8)), syms),
        ];
        let made = runs(&vars);
        let lens: Vec<u32> = made.iter().map(|r| r.len).collect();
        assert_eq!(lens, [3, 1, 1, 1, 1, 1, 2]);
        let back: Vec<(VarOrigin, VarDomain)> = made.iter().flat_map(Run::vars).collect();
        assert_eq!(back, vars);
    }
}
