//! A sequence field's symbols, held compactly: a corpus is mostly these, and they stay in
//! memory for the whole run.

/// A sequence field's values on a line, four bytes each (an `Option<u32>` takes eight): a
/// corpus is mostly these (the Hansards of IBM Model 1: 1.1M words), and they stay in memory
/// for the whole run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tokens(Vec<u32>);

/// Stands for `?` among a `Tokens`' symbol indices: no domain has 2^32 - 1 symbols, since
/// their names alone would not fit in memory.
const MISSING_ID: u32 = u32::MAX;

impl Tokens {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Value `i`, `None` where the data says `?`; `None` past the end too.
    pub fn get(&self, i: usize) -> Option<Option<u32>> {
        self.0.get(i).map(|x| (*x != MISSING_ID).then_some(*x))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<u32>> + '_ {
        self.0.iter().map(|x| (*x != MISSING_ID).then_some(*x))
    }
}

impl FromIterator<Option<u32>> for Tokens {
    /// Room for as many values as the iterator can give: a line's values are collected
    /// through a `Result`, which gives no lower bound, and a vector grown by doubling would
    /// keep a third more than it holds.
    fn from_iter<I: IntoIterator<Item = Option<u32>>>(items: I) -> Tokens {
        let items = items.into_iter();
        let (least, most) = items.size_hint();
        let mut ids = Vec::with_capacity(most.unwrap_or(least));
        ids.extend(items.map(|x| match x {
            Some(x) => {
                assert_ne!(x, MISSING_ID, "a symbol index below 2^32 - 1");
                x
            }
            None => MISSING_ID,
        }));
        Tokens(ids)
    }
}

impl From<Vec<Option<u32>>> for Tokens {
    fn from(items: Vec<Option<u32>>) -> Tokens {
        items.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Tokens;

    /// Symbols and `?` come back as they went in, by position and in order.
    #[test]
    fn tokens_keep_symbols_and_missing_values() {
        let values = vec![Some(0), None, Some(7), Some(u32::MAX - 1), None];
        let tokens = Tokens::from(values.clone());
        assert_eq!(tokens.len(), 5);
        assert!(!tokens.is_empty());
        assert_eq!(tokens.iter().collect::<Vec<_>>(), values);
        assert_eq!(
            (0..6).map(|i| tokens.get(i)).collect::<Vec<_>>(),
            [
                Some(Some(0)),
                Some(None),
                Some(Some(7)),
                Some(Some(u32::MAX - 1)),
                Some(None),
                None
            ]
        );
        assert!(Tokens::default().is_empty());
    }
}
