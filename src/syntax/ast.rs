//! The syntax tree of a model file. Every node keeps the byte span it came from so that later
//! stages can point at the exact text when they report an error.

// Spans live with the diagnostics that render them, so that `diagnostic` needs nothing from
// the syntax; every stage names them through here as before.
pub use crate::diagnostic::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub consts: Vec<ConstDecl>,
    pub domains: Vec<DomainDecl>,
    pub data: Vec<DataDecl>,
    pub params: Vec<ParamDecl>,
    pub tables: Vec<TableDecl>,
    pub trains: Vec<Options>,
    pub models: Vec<Block>,
    pub procs: Vec<ProcDecl>,
}

/// `proc name(i, x : D) { ... }`: a procedure of the story.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcDecl {
    pub name: Ident,
    /// Each parameter with its domain; `None` for an integer.
    pub params: Vec<(Ident, Option<Ident>)>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConstDecl {
    pub name: Ident,
    pub value: Number,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DomainDecl {
    pub name: Ident,
    pub base: DomainBase,
    /// Symbols appended by `+ {X, Y}`.
    pub extra: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DomainBase {
    Symbols(Vec<Ident>),
    Range(IntRange),
    Vocabulary {
        fields: Vec<Ident>,
        options: Vec<OptionItem>,
        span: Span,
    },
    Named(Ident),
    /// `substrings(field, max_len = N)`.
    Substrings {
        field: Ident,
        options: Vec<OptionItem>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct IntRange {
    pub lo: Expr,
    pub hi: Expr,
    pub span: Span,
}

/// `data a : [A] ||| b : B, c : weight`: groups separated by `|||`, fields by `,`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub groups: Vec<Vec<FieldDecl>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    /// `true` for `[T]`.
    pub sequence: bool,
    /// The domain; `Real` for real-valued fields.
    pub ty: Ident,
    pub real: Option<RealType>,
}

/// `Real` or `Real[D]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RealType {
    /// `None` for `Real` (one number).
    pub dim: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    pub kind: Ident,
    /// The outcome domain; `Real` for a real-valued outcome.
    pub outcome: Ident,
    pub outcome_real: Option<RealType>,
    pub conditions: Vec<Ident>,
    pub options: Option<Options>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    pub args: Vec<Ident>,
    pub result: Ident,
    pub rows: Vec<TableRow>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    pub inputs: Vec<Ident>,
    pub output: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub items: Vec<OptionItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OptionItem {
    pub key: Ident,
    pub value: Option<Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(Number),
    Str {
        text: String,
        span: Span,
    },
    Word(Ident),
    Array {
        items: Vec<Value>,
        span: Span,
    },
    /// `name(args)`, as in a feature template `suffix(3)`.
    Call {
        name: Ident,
        args: Vec<Value>,
        span: Span,
    },
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Number(n) => n.span,
            Value::Str { span, .. } | Value::Array { span, .. } | Value::Call { span, .. } => *span,
            Value::Word(i) => i.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// What follows a draw: `from base` (the drawn value is `base` plus the family's outcome)
/// and `within lo .. hi` (the row normalised over the values this range allows).
#[derive(Clone, Debug, PartialEq)]
pub struct Restrict {
    pub from: Option<Expr>,
    pub within: Option<(Expr, Expr)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Hidden {
        name: Ident,
        domain: DomainRef,
        /// `Some(n)` for `[D; n]`.
        length: Option<Expr>,
        span: Span,
    },
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    For {
        var: Ident,
        lo: Expr,
        hi: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    /// `target ~ dist(args) [from base] [within lo .. hi]`
    Draw {
        target: Expr,
        call: Call,
        restrict: Option<Box<Restrict>>,
        span: Span,
    },
    /// `target = table(args)`
    Assign {
        target: Expr,
        call: Call,
        span: Span,
    },
    /// `if cond { ... } else { ... }` (`else if` is an `If` alone in the else block).
    If {
        cond: Cond,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
        span: Span,
    },
    /// `for some var in lo..hi { ... }`: one branch per value.
    Some {
        var: Ident,
        lo: Expr,
        hi: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    /// `name(args)`: a procedure call.
    Call(Call),
    /// `output ...`: what decoding prints of a derivation that runs this statement.
    Output { what: Output, span: Span },
    /// `weight exp(t1 + t2 ...)`: a fixed factor on the derivations that run it.
    Weight { terms: Vec<WeightTerm>, span: Span },
}

/// One term `c * x ^ p` of a `weight` exponent, its sign folded into `negative`.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightTerm {
    pub negative: bool,
    pub coef: Option<Number>,
    pub base: Expr,
    pub power: Option<Number>,
    pub span: Span,
}

/// The two forms of `output`.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// `output name[index] = value`: one element of the line's array `name`.
    At {
        name: Ident,
        index: Expr,
        value: Expr,
    },
    /// `output (label seq[lo..hi])`: a constituent of a bracketed tree.
    Bracket { label: Expr, span: Expr },
}

/// A condition of an `if`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Compare(CmpOp, Expr, Expr, Span),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Hidden { span, .. }
            | Stmt::Let { span, .. }
            | Stmt::For { span, .. }
            | Stmt::Draw { span, .. }
            | Stmt::Assign { span, .. }
            | Stmt::If { span, .. }
            | Stmt::Some { span, .. }
            | Stmt::Output { span, .. }
            | Stmt::Weight { span, .. } => *span,
            Stmt::Call(c) => c.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DomainRef {
    Named(Ident),
    Range(IntRange),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    /// `None` when written without parentheses (`z[0] ~ start`).
    pub args: Option<Vec<Expr>>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Concat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    /// A number that is not a 64-bit integer.
    BadNumber(String),
    Name(String),
    Len(Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    /// `s[lo..hi]`: the elements `lo` to `hi - 1` of a sequence.
    Slice(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `min(a, b)` (`true`) or `max(a, b)`.
    MinMax(bool, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}
