//! Multi-document YAML → [`Value`]s with the line of each document and of each element of a
//! top-level `items` list (Kubernetes `List` kinds), on `yaml-rust2`'s event parser.
//!
//! Why not a serde YAML crate: findings must point at the line of each resource, duplicate
//! keys must be an error (Kubernetes' own decoder rejects them; a silent "last one wins" hides
//! a second `securityContext`), and aliases must be bounded (a "billion laughs" document must
//! not exhaust memory). The event parser gives positions; this loader adds the rest.
//!
//! Plain scalars resolve by the YAML 1.2 core schema (`null`/`~`, `true`/`false`, integers,
//! floats); quoted and block scalars stay strings, as Kubernetes reads them.

use std::collections::HashMap;

use compact_str::CompactString;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Event;

use super::InputError;
use crate::value::{Number, Value};

/// Nesting limit, as for JSON.
const MAX_DEPTH: usize = 128;
/// Limit on values built, aliases expanded included.
const MAX_NODES: usize = 10_000_000;

/// One document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's value (`null` for an empty document).
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: u32,
    /// 1-based lines of the elements of a top-level `items` sequence, in order.
    pub item_lines: Vec<u32>,
}

/// Below this size a stream is parsed on one thread.
const PARALLEL_BYTES: usize = 1 << 20;

/// Parses every document of a YAML stream. Large multi-document streams (`helm template` of a
/// big chart) are split at document markers and the halves parsed on both cores: a `---` at
/// the start of a line always ends a document (YAML forbids it inside scalars), and anchors do
/// not cross documents, so the halves are independent.
pub fn load(name: &str, text: &str) -> Result<Vec<Document>, InputError> {
    if text.len() >= PARALLEL_BYTES {
        if let Some(split) = document_boundary_near(text, text.len() / 2) {
            let (first, second) = text.split_at(split);
            let offset =
                u32::try_from(first.bytes().filter(|&b| b == b'\n').count()).unwrap_or(u32::MAX);
            let (a, b) = std::thread::scope(|scope| {
                let other = scope.spawn(|| load_part(name, second, offset));
                (load_part(name, first, 0), other.join())
            });
            let mut documents = a?;
            documents.extend(b.unwrap_or_else(|_| load_part(name, second, offset))?);
            return Ok(documents);
        }
    }
    load_part(name, text, 0)
}

/// The byte offset of the first line at or after `from` that is a document marker (`---`
/// alone or followed by a space), when the text before it holds no YAML directive.
fn document_boundary_near(text: &str, from: usize) -> Option<usize> {
    if text.starts_with('%') || text.contains("\n%") {
        return None;
    }
    let mut at = text.get(from..)?.find('\n')? + from + 1;
    loop {
        let rest = text.get(at..)?;
        if rest.starts_with("---")
            && matches!(
                rest.as_bytes().get(3),
                None | Some(b'\n' | b'\r' | b' ' | b'\t')
            )
        {
            return Some(at);
        }
        at += rest.find('\n')? + 1;
    }
}

/// Parses one part of a stream; `line_offset` lines precede it in the file.
fn load_part(name: &str, text: &str, line_offset: u32) -> Result<Vec<Document>, InputError> {
    let mut loader = Loader::default();
    let mut parser = Parser::new_from_str(text);
    let shift = |line: usize| line + line_offset as usize;
    parser
        .load(&mut loader, true)
        .map_err(|e| InputError::Syntax {
            path: name.to_owned(),
            line: shift(e.marker().line()),
            column: e.marker().col(),
            message: e.info().to_owned(),
        })?;
    if let Some((mark, message)) = loader.error {
        return Err(InputError::Syntax {
            path: name.to_owned(),
            line: shift(mark.line()),
            column: mark.col(),
            message,
        });
    }
    let mut documents = loader.documents;
    if line_offset > 0 {
        for d in &mut documents {
            d.line += line_offset;
            for l in &mut d.item_lines {
                *l += line_offset;
            }
        }
    }
    Ok(documents)
}

enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        pairs: Vec<(CompactString, Value)>,
        key: Option<CompactString>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Loader {
    documents: Vec<Document>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    error: Option<(Marker, String)>,
    document_line: Option<u32>,
    item_lines: Vec<u32>,
}

impl Loader {
    fn fail(&mut self, mark: Marker, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some((mark, message.into()));
        }
    }

    /// Places a finished value in its parent (or ends the document's content).
    fn push_value(&mut self, value: Value, mark: Marker) {
        let line = u32::try_from(mark.line()).unwrap_or(u32::MAX);
        match self.stack.last_mut() {
            None => self.documents.push(Document {
                value,
                line: self.document_line.take().unwrap_or(line),
                item_lines: std::mem::take(&mut self.item_lines),
            }),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping { pairs, key, .. }) => match key.take() {
                None => match value {
                    Value::String(k) => *key = Some(k),
                    Value::Null => *key = Some(CompactString::from("null")),
                    Value::Bool(b) => {
                        *key = Some(CompactString::from(if b { "true" } else { "false" }))
                    }
                    Value::Number(n) => *key = Some(CompactString::from(n.to_string())),
                    _ => self.fail(
                        mark,
                        "a mapping key must be a scalar (complex keys are not supported)",
                    ),
                },
                Some(k) => {
                    if pairs.iter().any(|(existing, _)| *existing == k) {
                        let message = format!("duplicate key `{k}` in a mapping");
                        self.fail(mark, message);
                        return;
                    }
                    pairs.push((k, value));
                }
            },
        }
    }

    fn count(&mut self, mark: Marker, nodes: usize) -> bool {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            self.fail(
                mark,
                format!("the document expands to more than {MAX_NODES} values (alias bomb?)"),
            );
            return false;
        }
        true
    }
}

fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Object(pairs) => 1 + pairs.iter().map(|(_, v)| size(v)).sum::<usize>(),
        _ => 1,
    }
}

impl MarkedEventReceiver for Loader {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = u32::try_from(mark.line()).unwrap_or(u32::MAX);
        match event {
            Event::DocumentStart => {
                self.document_line = None;
                self.item_lines.clear();
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::Scalar(text, style, anchor, tag) => {
                if !self.count(mark, 1) {
                    return;
                }
                if self.stack.is_empty() {
                    self.document_line.get_or_insert(line);
                }
                let value = scalar(text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                self.push_value(value, mark);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(value) => {
                    if self.count(mark, size(&value)) {
                        self.push_value(value, mark);
                    }
                }
                None => self.fail(mark, "alias to an unknown anchor"),
            },
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(mark, format!("nesting deeper than {MAX_DEPTH} levels"));
                    return;
                }
                if self.stack.is_empty() {
                    self.document_line.get_or_insert(line);
                }
                // The elements of the root mapping's `items` sequence: List kinds.
                if let [Frame::Mapping { key: Some(k), .. }, Frame::Sequence { .. }] =
                    self.stack.as_slice()
                {
                    if k == "items" {
                        self.item_lines.push(line);
                    }
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Sequence {
                        items: Vec::new(),
                        anchor,
                    }
                } else {
                    Frame::Mapping {
                        pairs: Vec::new(),
                        key: None,
                        anchor,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if !self.count(mark, 1) {
                    return;
                }
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence { items, anchor }) => {
                        (Value::Array(items.into_boxed_slice()), anchor)
                    }
                    Some(Frame::Mapping { pairs, anchor, .. }) => {
                        (Value::Object(pairs.into_boxed_slice()), anchor)
                    }
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                self.push_value(value, mark);
            }
        }
    }
}

/// Resolves a scalar: plain scalars by the YAML 1.2 core schema, explicit `!!str`/`!!int`...
/// tags as written, everything else a string.
fn scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::String(text.into()),
        Some("null") => return Value::Null,
        Some("bool") => return text.parse().map_or(Value::String(text.into()), Value::Bool),
        Some("int" | "float") => return number(&text).unwrap_or(Value::String(text.into())),
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Value::String(text.into());
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => number(&text).unwrap_or(Value::String(text.into())),
    }
}

fn number(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16)
            .ok()
            .map(|n| Value::Number(Number::PosInt(n)));
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return u64::from_str_radix(oct, 8)
            .ok()
            .map(|n| Value::Number(Number::PosInt(n)));
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.trim_start_matches('+').parse::<i64>() {
            return Some(Value::from(n));
        }
        return text
            .trim_start_matches('+')
            .parse::<u64>()
            .ok()
            .map(|n| Value::Number(Number::PosInt(n)));
    }
    match digits {
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN" => return None,
        _ => {}
    }
    // A float needs a digit and only float characters (`1e3`, `-0.5`); `1.2.3` stays a string.
    let valid = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if valid {
        return text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| Value::Number(Number::Float(f)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lines_and_types() {
        let text = "---\n# comment\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  n: 3\n  f: 1.5\n  q: \"3\"\n  b: true\n  z: ~\n  v: 1.2.3\n---\n---\nkind: List\nitems:\n- kind: A\n- kind: B\n  x: 1\n";
        let docs = load("x.yaml", text).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].line, 3);
        let spec = docs[0].value.get("spec").unwrap();
        assert_eq!(spec.get("n"), Some(&Value::from(3)));
        assert_eq!(spec.get("q"), Some(&Value::from("3")));
        assert_eq!(spec.get("b"), Some(&Value::Bool(true)));
        assert_eq!(spec.get("z"), Some(&Value::Null));
        assert_eq!(spec.get("v"), Some(&Value::from("1.2.3")));
        assert!(matches!(
            spec.get("f"),
            Some(Value::Number(Number::Float(_)))
        ));
        assert!(docs[1].value.is_null());
        assert_eq!(docs[2].item_lines, vec![17, 18]);
    }

    #[test]
    fn anchors_and_aliases() {
        let docs = load("x.yaml", "a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(docs[0].value.get("b"), docs[0].value.get("a"));
    }

    #[test]
    fn duplicate_keys_are_errors_with_a_place() {
        let err = load("x.yaml", "a: 1\nb:\n  c: 1\n  c: 2\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.yaml:4:") && err.contains("duplicate key `c`"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let err = load("x.yaml", "a: [1, 2\nb: 3\n").unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:"), "{err}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let err = load("bomb.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("alias bomb"), "{err}");
    }

    #[test]
    fn large_streams_split_at_document_markers_keep_lines() {
        let doc = |i: usize| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  text: |\n    ---not a marker\n    {}\n", "x".repeat(200))
        };
        let text: String = (0..6000).map(|i| format!("---\n{}", doc(i))).collect();
        assert!(text.len() > PARALLEL_BYTES);
        let docs = load("big.yaml", &text).unwrap();
        assert_eq!(docs.len(), 6000);
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(
                d.value.path("metadata.name").and_then(Value::as_str),
                Some(format!("c{i}").as_str())
            );
            assert_eq!(d.line as usize, i * 9 + 2, "document {i}");
        }
        let broken = format!("{text}---\nkey: [unclosed\n");
        let err = load("big.yaml", &broken).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("big.yaml:{}:", 6000 * 9 + 2))
                || err.starts_with(&format!("big.yaml:{}:", 6000 * 9 + 3)),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let err = load("deep.yaml", &"[".repeat(1000))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("deeper") || err.contains("deep.yaml:"),
            "{err}"
        );
    }
}
