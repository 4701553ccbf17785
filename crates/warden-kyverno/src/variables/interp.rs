//! A JMESPath evaluator over the `jmespath` crate's AST with Kyverno's semantics for missing
//! keys: a field missing from an object is a "not found" error (`Unknown key "x" in path`)
//! that travels up plain paths (`a.b.c`, `a[0].b`) but is read as `null` by every other
//! construct (`||`, `&&` left side, `!`, comparisons, function arguments, projections, filters,
//! pipes, multi-selects) — exactly as Kyverno's interpreter (pkg/engine/jmespath) does.

use jmespath::ast::{Ast, Comparator};
use jmespath::{Context as JpContext, JmespathError, Rcvar, Variable};
use std::collections::BTreeMap;

/// Why an evaluation stopped.
pub(crate) enum EvalError {
    /// A key is missing from an object on a plain path.
    NotFound(String),
    /// Any other JMESPath error (unknown function, bad argument ...).
    Jmespath(JmespathError),
}

impl From<JmespathError> for EvalError {
    fn from(error: JmespathError) -> Self {
        EvalError::Jmespath(error)
    }
}

type EvalResult = Result<Rcvar, EvalError>;

fn null() -> Rcvar {
    Rcvar::new(Variable::Null)
}

/// Reads "not found" as `null`; other errors stay errors.
fn lenient(result: EvalResult) -> EvalResult {
    match result {
        Err(EvalError::NotFound(_)) => Ok(null()),
        other => other,
    }
}

/// Evaluates `node` against `data`; `ctx` carries the expression text and the runtime.
pub(crate) fn eval(node: &Ast, data: &Rcvar, ctx: &mut JpContext<'_>) -> EvalResult {
    match node {
        Ast::Field { name, .. } => field(data, name),
        Ast::Subexpr { lhs, rhs, offset } => {
            if is_pipe(ctx.expression, *offset) {
                let left = lenient(eval(lhs, data, ctx))?;
                lenient(eval(rhs, &left, ctx))
            } else {
                let left = eval(lhs, data, ctx)?;
                if left.is_null() {
                    return Ok(null());
                }
                eval(rhs, &left, ctx)
            }
        }
        Ast::Identity { .. } => Ok(data.clone()),
        Ast::Literal { value, .. } => Ok(value.clone()),
        Ast::Index { idx, .. } => Ok(index(data, *idx)),
        Ast::Or { lhs, rhs, .. } => {
            let left = lenient(eval(lhs, data, ctx))?;
            if left.is_truthy() {
                Ok(left)
            } else {
                lenient(eval(rhs, data, ctx))
            }
        }
        Ast::And { lhs, rhs, .. } => {
            let left = lenient(eval(lhs, data, ctx))?;
            if left.is_truthy() {
                eval(rhs, data, ctx)
            } else {
                Ok(left)
            }
        }
        Ast::Not { node, .. } => {
            let value = lenient(eval(node, data, ctx))?;
            Ok(Rcvar::new(Variable::Bool(!value.is_truthy())))
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            let test = lenient(eval(predicate, data, ctx))?;
            if test.is_truthy() {
                lenient(eval(then, data, ctx))
            } else {
                Ok(null())
            }
        }
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => {
            let left = lenient(eval(lhs, data, ctx))?;
            let right = lenient(eval(rhs, data, ctx))?;
            Ok(compare(comparator, &left, &right))
        }
        Ast::ObjectValues { node, .. } => match eval(node, data, ctx) {
            Ok(value) => match value.as_object() {
                Some(map) => Ok(Rcvar::new(Variable::Array(map.values().cloned().collect()))),
                None => Ok(null()),
            },
            Err(EvalError::NotFound(_)) => Ok(null()),
            Err(other) => Err(other),
        },
        Ast::Projection { lhs, rhs, .. } => project(lhs, rhs, data, ctx),
        Ast::Flatten { node, .. } => match eval(node, data, ctx) {
            Ok(value) => Ok(flatten(&value)),
            Err(EvalError::NotFound(_)) => Ok(null()),
            Err(other) => Err(other),
        },
        Ast::MultiList { elements, .. } => {
            if data.is_null() {
                return Ok(null());
            }
            let mut collected = Vec::with_capacity(elements.len());
            for element in elements {
                collected.push(lenient(eval(element, data, ctx))?);
            }
            Ok(Rcvar::new(Variable::Array(collected)))
        }
        Ast::MultiHash { elements, .. } => {
            if data.is_null() {
                return Ok(null());
            }
            let mut collected = BTreeMap::new();
            for pair in elements {
                collected.insert(pair.key.clone(), lenient(eval(&pair.value, data, ctx))?);
            }
            Ok(Rcvar::new(Variable::Object(collected)))
        }
        Ast::Function { name, args, offset } => call(name, args, *offset, data, ctx),
        Ast::Expref { ast, .. } => Ok(Rcvar::new(Variable::Expref((**ast).clone()))),
        Ast::Slice { .. } => Ok(jmespath::interpret(data, node, ctx)?),
    }
}

/// A `Subexpr` built from `|` (the parser makes both `a.b` and `a | b` a `Subexpr`).
fn is_pipe(expression: &str, offset: usize) -> bool {
    expression
        .get(offset..)
        .is_some_and(|rest| rest.starts_with('|') && !rest.starts_with("||"))
}

fn field(data: &Rcvar, name: &str) -> EvalResult {
    match data.as_object() {
        Some(map) => map
            .get(name)
            .cloned()
            .ok_or_else(|| EvalError::NotFound(name.to_owned())),
        None => Ok(null()),
    }
}

fn index(data: &Rcvar, idx: i32) -> Rcvar {
    match data.as_array() {
        Some(array) => {
            let len = i64::try_from(array.len()).unwrap_or(i64::MAX);
            let at = if idx < 0 {
                len + i64::from(idx)
            } else {
                i64::from(idx)
            };
            usize::try_from(at)
                .ok()
                .and_then(|at| array.get(at))
                .cloned()
                .unwrap_or_else(null)
        }
        None => null(),
    }
}

fn flatten(value: &Rcvar) -> Rcvar {
    match value.as_array() {
        Some(array) => {
            let mut collected = Vec::new();
            for element in array {
                match element.as_array() {
                    Some(inner) => collected.extend(inner.iter().cloned()),
                    None => collected.push(element.clone()),
                }
            }
            Rcvar::new(Variable::Array(collected))
        }
        None => null(),
    }
}

fn project(lhs: &Ast, rhs: &Ast, data: &Rcvar, ctx: &mut JpContext<'_>) -> EvalResult {
    let left = lenient(eval(lhs, data, ctx))?;
    let Some(array) = left.as_array() else {
        return Ok(null());
    };
    let mut collected = Vec::new();
    for element in array {
        let value = lenient(eval(rhs, element, ctx))?;
        if !value.is_null() {
            collected.push(value);
        }
    }
    Ok(Rcvar::new(Variable::Array(collected)))
}

/// `==`/`!=` compare any values deeply; ordering compares numbers only (else `null`).
fn compare(comparator: &Comparator, left: &Rcvar, right: &Rcvar) -> Rcvar {
    let result = match comparator {
        Comparator::Equal => Some(left == right),
        Comparator::NotEqual => Some(left != right),
        ordering => match (left.as_number(), right.as_number()) {
            (Some(a), Some(b)) => Some(match ordering {
                Comparator::LessThan => a < b,
                Comparator::LessThanEqual => a <= b,
                Comparator::GreaterThan => a > b,
                _ => a >= b,
            }),
            _ => None,
        },
    };
    result.map_or_else(null, |b| Rcvar::new(Variable::Bool(b)))
}

fn call(
    name: &str,
    args: &[Ast],
    offset: usize,
    data: &Rcvar,
    ctx: &mut JpContext<'_>,
) -> EvalResult {
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        values.push(lenient(eval(arg, data, ctx))?);
    }
    ctx.offset = offset;
    let runtime = ctx.runtime;
    match runtime.get_function(name) {
        Some(function) => Ok(function.evaluate(&values, ctx)?),
        None => Err(EvalError::Jmespath(JmespathError::from_ctx(
            ctx,
            jmespath::ErrorReason::Runtime(jmespath::RuntimeError::UnknownFunction(
                name.to_owned(),
            )),
        ))),
    }
}
