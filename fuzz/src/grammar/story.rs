//! The story half of the generator: procedures, statements, conditions and expressions, and
//! the stress chains inside them.

use super::{Gen, Proc};

/// Statements nest at most this deep in ordinary generation (stress chains go further).
const MAX_DEPTH: usize = 5;
/// Expressions nest at most this deep in ordinary generation.
const MAX_EXPR: usize = 3;

impl Gen<'_, '_> {
    pub(super) fn procs(&mut self) {
        let n = self.below(4);
        // Names and signatures first, so bodies can call each other (and themselves).
        for _ in 0..n {
            let name = self.fresh("proc");
            let params = (0..self.below(4))
                .map(|_| {
                    if self.one_in(3) && !self.domains.is_empty() {
                        Some(self.below(self.domains.len()))
                    } else {
                        None
                    }
                })
                .collect();
            self.procs.push(Proc { name, params });
        }
        for k in 0..n {
            let p = self.procs[k].clone();
            let mut sig = Vec::new();
            let (vars, ints) = (self.vars.len(), self.ints.len());
            for (i, d) in p.params.iter().enumerate() {
                let pname = format!("a{i}");
                match d {
                    Some(d) => {
                        sig.push(format!("{pname} : {}", self.domains[*d].name));
                        self.vars.push((pname, false));
                    }
                    None => {
                        sig.push(pname.clone());
                        self.ints.push(pname);
                    }
                }
            }
            self.w(&format!("proc {}({}) {{\n", p.name, sig.join(", ")));
            self.depth = 1;
            let n = 1 + self.below(4);
            self.block_body(n);
            self.w("}\n");
            self.vars.truncate(vars);
            self.ints.truncate(ints);
        }
    }

    /// `n` statements, then the closing of nothing: the caller writes the braces.
    pub(super) fn block_body(&mut self, n: usize) {
        let (vars, ints) = (self.vars.len(), self.ints.len());
        for _ in 0..n {
            if self.full() {
                break;
            }
            self.indent();
            self.stmt();
            if self.one_in(16) {
                self.w(" # why");
            }
            self.w("\n");
        }
        self.vars.truncate(vars);
        self.ints.truncate(ints);
    }

    fn indent(&mut self) {
        let pad = "    ".repeat(self.depth.min(8));
        self.w(&pad);
    }

    fn block(&mut self) {
        self.w("{\n");
        self.depth += 1;
        let n = if self.depth > MAX_DEPTH {
            self.below(2)
        } else {
            self.below(4)
        };
        self.block_body(n);
        self.depth -= 1;
        self.indent();
        self.w("}");
    }

    pub(super) fn stmt(&mut self) {
        if self.one_in(40) {
            return self.stress_stmt();
        }
        let deep = self.depth > MAX_DEPTH;
        match self.below(if deep { 5 } else { 11 }) {
            0 => self.hidden_stmt(),
            1 => self.let_stmt(),
            2 | 3 => self.draw_stmt(),
            4 => self.assign_or_call(),
            5 | 6 => self.for_stmt(),
            7 => self.if_stmt(),
            8 => self.some_stmt(),
            9 => self.output_stmt(),
            _ if self.one_in(2) => self.weight_stmt(),
            _ => self.draw_stmt(),
        }
    }

    /// `weight exp(c * x ^ p + ...)`: a fixed factor of structured stories (refused in
    /// others), with exponents that overflow, powers of negative bases and missing parts.
    fn weight_stmt(&mut self) {
        let n = 1 + self.below(3);
        let terms: Vec<String> = (0..n)
            .map(|_| {
                let c = self.pick(&["1", "-1", "0.5", "-2.5", "1e308", "-1e308", "0"]);
                let x = self.int_expr();
                match self.below(4) {
                    0 => format!("{c} * {x}"),
                    1 => format!("-({x}) ^ {}", self.pick(&["1.6", "2", "0.5", "-1", "400"])),
                    2 => format!("{c} * ({x}) ^ {}", self.pick(&["1.6", "3", "1e10"])),
                    _ => c.to_string(),
                }
            })
            .collect();
        if self.oops(10) {
            self.w(&format!("weight {}", terms.join(" + ")));
        } else {
            self.w(&format!("weight exp({})", terms.join(" + ")));
        }
    }

    fn hidden_stmt(&mut self) {
        let name = self.fresh("h");
        let names = self.domain_names();
        let dom = if self.one_in(4) {
            format!("{}..{}", self.int_expr(), self.int_expr())
        } else {
            self.name_from(&names, "D")
        };
        // Hidden arrays are refused in structured stories: rarer there.
        let array_odds = if self.procs.is_empty() { 2 } else { 8 };
        if self.one_in(array_odds) {
            let n = self.int_expr();
            self.w(&format!("hidden {name} : [{dom}; {n}]"));
            self.vars.push((name, true));
        } else {
            self.w(&format!("hidden {name} : {dom}"));
            self.vars.push((name, false));
        }
    }

    fn let_stmt(&mut self) {
        let name = self.fresh("l");
        let value = match self.below(4) {
            0 => self.int_expr(),
            1 => format!("{} ++ {}", self.list(), self.expr(1)),
            2 => self.list(),
            _ => self.expr(0),
        };
        self.w(&format!("let {name} = {value}"));
        self.vars.push((name, true));
    }

    fn list(&mut self) -> String {
        let items: Vec<String> = (0..self.below(4))
            .map(|_| match self.below(4) {
                0 => self.symbol(),
                1 => self.list_shallow(),
                _ => self.expr(MAX_EXPR),
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    /// A list inside a list (`[[H]]`): a shape the unroller met with `unreachable!`.
    fn list_shallow(&mut self) -> String {
        let s = self.symbol();
        format!("[{s}]")
    }

    /// A draw: `lhs ~ family(args) [from e] [within a .. b]`.
    fn draw_stmt(&mut self) {
        let (fam, args, gaussian) = self.family_call();
        // A Gaussian family draws a real-valued field, mostly.
        let real: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.real)
            .map(|f| f.name.clone())
            .collect();
        let lhs = if gaussian && !real.is_empty() && !self.one_in(8) {
            let f = real[self.below(real.len())].clone();
            if self.one_in(2) {
                let i = self.int_expr();
                format!("{f}[{i}]")
            } else {
                f
            }
        } else {
            self.lhs()
        };
        self.w(&format!("{lhs} ~ {fam}{args}"));
        if self.one_in(6) {
            let e = self.int_expr();
            self.w(&format!(" from {e}"));
        }
        if self.one_in(5) {
            let (a, b) = (self.int_expr(), self.int_expr());
            self.w(&format!(" within {a} .. {b}"));
        }
    }

    /// What a draw's left side names: a variable, an element, a field, a span, a symbol, or a
    /// difference of positions (`j - i`).
    fn lhs(&mut self) -> String {
        match self.below(8) {
            0 | 1 => self.var_ref(),
            2 | 3 => {
                let fields = self.field_names();
                let f = self.name_from(&fields, "f");
                let i = self.int_expr();
                format!("{f}[{i}]")
            }
            4 => {
                let fields = self.field_names();
                self.name_from(&fields, "f")
            }
            5 => {
                let fields = self.field_names();
                let f = self.name_from(&fields, "f");
                let (i, j) = (self.int_expr(), self.int_expr());
                format!("{f}[{i}..{j}]")
            }
            6 => self.symbol(),
            _ => format!("{} - {}", self.int_atom(), self.int_atom()),
        }
    }

    fn var_ref(&mut self) -> String {
        if self.vars.is_empty() && !self.oops(4) {
            // Nothing declared yet: a field's element instead.
            let fields = self.field_names();
            let f = self.name_from(&fields, "f");
            let i = self.int_expr();
            return format!("{f}[{i}]");
        }
        let names: Vec<String> = self.vars.iter().map(|(n, _)| n.clone()).collect();
        let name = self.name_from(&names, "v");
        let is_array = self.vars.iter().any(|(n, a)| *n == name && *a);
        if is_array || self.oops(8) {
            let i = self.int_expr();
            format!("{name}[{i}]")
        } else {
            name
        }
    }

    /// A family (or `uniform`), its argument list, and whether it is Gaussian.
    fn family_call(&mut self) -> (String, String, bool) {
        if self.families.is_empty() || self.one_in(8) {
            let name = self.pick_ok(&["uniform"], &["nofamily"]).to_string();
            return (name, String::new(), false);
        }
        let k = self.below(self.families.len());
        let fam = self.families[k].clone();
        let mut n = fam.conds.len();
        if self.oops(10) {
            n = self.below(4);
        }
        if n == 0 && !self.one_in(4) {
            return (fam.name, String::new(), fam.gaussian);
        }
        let args: Vec<String> = (0..n).map(|_| self.arg()).collect();
        (fam.name, format!("({})", args.join(", ")), fam.gaussian)
    }

    /// An argument: a variable, a field element, a symbol or an integer.
    pub(super) fn arg(&mut self) -> String {
        match self.below(5) {
            0 | 1 => self.var_ref(),
            2 => {
                let fields = self.field_names();
                let f = self.name_from(&fields, "f");
                let i = self.int_expr();
                format!("{f}[{i}]")
            }
            3 => self.symbol(),
            _ => self.int_expr(),
        }
    }

    fn assign_or_call(&mut self) {
        if !self.procs.is_empty() && self.one_in(2) {
            let k = self.below(self.procs.len());
            let p = self.procs[k].clone();
            let args: Vec<String> = p
                .params
                .iter()
                .map(|d| match d {
                    Some(_) => {
                        if self.one_in(2) {
                            self.var_ref()
                        } else {
                            self.symbol()
                        }
                    }
                    None => self.int_expr(),
                })
                .collect();
            self.w(&format!("{}({})", p.name, args.join(", ")));
            return;
        }
        let lhs = self.lhs();
        let (name, n) = if self.tables.is_empty() || self.oops(8) {
            ("notable".to_string(), 1)
        } else {
            let k = self.below(self.tables.len());
            self.tables[k].clone()
        };
        let args: Vec<String> = (0..n).map(|_| self.arg()).collect();
        self.w(&format!("{lhs} = {name}({})", args.join(", ")));
    }

    fn range(&mut self) -> (String, String) {
        let lo = if self.one_in(2) {
            "0".into()
        } else {
            self.int_expr()
        };
        let hi = if self.one_in(2) {
            let fields = self.field_names();
            let f = self.name_from(&fields, "f");
            format!("len({f})")
        } else {
            self.int_expr()
        };
        (lo, hi)
    }

    fn for_stmt(&mut self) {
        let i = self.fresh("i");
        let (lo, hi) = self.range();
        self.w(&format!("for {i} in {lo}..{hi}"));
        self.ints.push(i);
        if self.one_in(3) {
            self.w(": ");
            self.depth += 1;
            self.stmt();
            self.depth -= 1;
        } else {
            self.w(" ");
            self.block();
        }
        self.ints.pop();
    }

    fn some_stmt(&mut self) {
        let j = self.fresh("j");
        let (lo, hi) = self.range();
        self.w(&format!("for some {j} in {lo} .. {hi} "));
        self.ints.push(j);
        self.block();
        self.ints.pop();
    }

    fn if_stmt(&mut self) {
        let c = self.cond(0);
        self.w(&format!("if {c} "));
        self.block();
        match self.below(3) {
            0 => {
                self.w(" else ");
                self.block();
            }
            1 => {
                self.w(" else ");
                self.if_stmt();
            }
            _ => {}
        }
    }

    fn output_stmt(&mut self) {
        if self.one_in(2) {
            let (i, v) = (self.int_expr(), self.int_expr());
            let name = self.pick(&["head", "state", "tag"]);
            self.w(&format!("output {name}[{i}] = {v}"));
        } else {
            let x = self.arg();
            let fields = self.field_names();
            let f = self.name_from(&fields, "f");
            let (i, k) = (self.int_expr(), self.int_expr());
            self.w(&format!("output ({x} {f}[{i}..{k}])"));
        }
    }

    // ---- conditions and expressions ------------------------------------------------------

    fn cond(&mut self, depth: usize) -> String {
        if depth >= MAX_EXPR {
            return self.compare();
        }
        match self.below(6) {
            0 => format!("{} and {}", self.cond(depth + 1), self.cond(depth + 1)),
            1 => format!("{} or {}", self.cond(depth + 1), self.cond(depth + 1)),
            2 => format!("not {}", self.cond(depth + 1)),
            3 => format!("({})", self.cond(depth + 1)),
            _ => self.compare(),
        }
    }

    fn compare(&mut self) -> String {
        let op = self.pick(&["==", "!=", "<=", ">=", "<", ">"]);
        if self.one_in(4) {
            // Symbols and variables compare too.
            let (a, b) = (self.arg(), self.arg());
            return format!("{a} {op} {b}");
        }
        format!("{} {op} {}", self.int_expr(), self.int_expr())
    }

    /// An integer-valued expression (`int_expr` in the grammar).
    pub(super) fn int_expr(&mut self) -> String {
        self.int_expr_at(0)
    }

    fn int_expr_at(&mut self, depth: usize) -> String {
        if depth >= MAX_EXPR {
            return self.int_atom();
        }
        match self.below(8) {
            0 => format!("{} + {}", self.int_expr_at(depth + 1), self.int_atom()),
            1 => format!("{} - {}", self.int_expr_at(depth + 1), self.int_atom()),
            2 => format!("{} * {}", self.int_atom(), self.int_atom()),
            3 => format!(
                "{}({}, {})",
                self.pick(&["min", "max"]),
                self.int_expr_at(depth + 1),
                self.int_expr_at(depth + 1)
            ),
            4 => format!("({})", self.int_expr_at(depth + 1)),
            _ => self.int_atom(),
        }
    }

    fn int_atom(&mut self) -> String {
        match self.below(7) {
            0 | 1 if !self.ints.is_empty() => {
                let ints = self.ints.clone();
                self.name_from(&ints, "i")
            }
            2 => {
                let fields = self.field_names();
                let f = self.name_from(&fields, "f");
                format!("len({f})")
            }
            3 if !self.consts.is_empty() => {
                let consts = self.consts.clone();
                self.name_from(&consts, "K")
            }
            4 => self.number(),
            _ => self.below(4).to_string(),
        }
    }

    /// Any expression (`expr`): sums, concatenations, indexes, slices, lists.
    fn expr(&mut self, depth: usize) -> String {
        if depth >= MAX_EXPR {
            return self.arg();
        }
        match self.below(6) {
            0 => format!("{} ++ {}", self.expr(depth + 1), self.expr(depth + 1)),
            1 => self.list(),
            2 => {
                let v = self.var_ref();
                let (i, j) = (self.int_expr(), self.int_expr());
                format!("{v}[{i}..{j}]")
            }
            3 => self.int_expr(),
            _ => self.arg(),
        }
    }

    // ---- stress shapes -------------------------------------------------------------------

    /// A statement with a very long flat chain or a very deep nest in it.
    fn stress_stmt(&mut self) {
        let n = self.chain_len();
        match self.below(10) {
            0 => {
                let name = self.fresh("l");
                let chain = vec!["1"; n].join("+");
                self.w(&format!("let {name} = {chain}"));
                self.vars.push((name, false));
            }
            1 => {
                let v = self.var_ref();
                let chain = "[0]".repeat(n);
                let (fam, args, _) = self.family_call();
                self.w(&format!("{v}{chain} ~ {fam}{args}"));
            }
            2 => {
                let name = self.fresh("l");
                let s = self.symbol();
                let chain = vec![format!("[{s}]"); n].join(" ++ ");
                self.w(&format!("let {name} = {chain}"));
                self.vars.push((name, true));
            }
            3 => {
                // `for` nests without braces: each the body of the one before.
                for k in 0..n {
                    if self.full() {
                        break;
                    }
                    self.w(&format!("for n{k} in 0..2: "));
                }
                self.draw_stmt();
            }
            4 => {
                let c = self.compare();
                let nots = "not ".repeat(n);
                self.w(&format!("if {nots}{c} {{ }}"));
            }
            5 => {
                for _ in 0..n {
                    if self.full() {
                        break;
                    }
                    let c = self.compare();
                    self.w(&format!("if {c} {{ }} else "));
                }
                self.w("{ }");
            }
            6 => {
                let name = self.fresh("l");
                let open = "(".repeat(n);
                let close = ")".repeat(n);
                self.w(&format!("let {name} = {open}1{close}"));
                self.vars.push((name, false));
            }
            7 => {
                let name = self.fresh("l");
                let open = "min(1, ".repeat(n);
                let close = ")".repeat(n);
                self.w(&format!("let {name} = {open}1{close}"));
                self.vars.push((name, false));
            }
            8 => {
                // Many statements in one block.
                for _ in 0..n {
                    if self.full() {
                        break;
                    }
                    self.draw_stmt();
                    self.w("\n");
                }
            }
            _ => {
                // Braced nests: `if` inside `if`, or `for some` inside `for some`.
                let some = self.one_in(2);
                for k in 0..n {
                    if self.full() {
                        break;
                    }
                    if some {
                        self.w(&format!("for some s{k} in 0 .. 2 {{ "));
                    } else {
                        self.w("if 0 < 1 { ");
                    }
                }
                self.draw_stmt();
                self.w(&" }".repeat(n));
            }
        }
    }
}
