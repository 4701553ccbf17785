//! A light scan of Rego source, before regorus parses it: which syntax version a file is
//! written in, its package, the heads of its top-level rules (name, line, column), its
//! `# METADATA` annotations, and the one source rewrite Warden applies (rules with several
//! bodies, `p { a } { b }`, which regorus does not parse: each extra body becomes its own
//! definition with the same head, which is what OPA means by it).
//!
//! The scan is token-based (comments, strings and raw strings are skipped), never parses
//! expressions, and never fails: anything it does not recognise it leaves to regorus.

/// Rego syntax version of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Rego v0 (OPA before 1.0, `--v0-compatible`), with `future.keywords` as imported.
    V0,
    /// Rego v1 (`if` and `contains` required), or v0 with `import rego.v1`.
    V1,
}

/// A top-level rule head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHead {
    /// The rule's first name segment (`deny`, `test_x`, `deny_public`).
    pub name: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// `true` for a `default` rule.
    pub default: bool,
    /// Annotations written just above it (`# METADATA`).
    pub metadata: Option<Metadata>,
}

/// `# METADATA` annotations (the YAML block in comments) of a rule or package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `scope` (`rule`, `document`, `package`, `subpackages`); `None` when not given.
    pub scope: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `custom` as JSON.
    pub custom: serde_json::Map<String, serde_json::Value>,
    /// `related_resources[].ref`.
    pub related: Vec<String>,
    /// The whole annotation block as OPA reports it (`rego.metadata.rule()`): the YAML as
    /// JSON, `scope` filled in, `related_resources` as `{ref}` objects.
    pub annotations: serde_json::Map<String, serde_json::Value>,
}

/// What the scan found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The syntax the file is written in.
    pub syntax: Syntax,
    /// The package path (`main`, `kubernetes.admission`), when declared.
    pub package: Option<String>,
    /// Package-level annotations.
    pub package_metadata: Option<Metadata>,
    /// Top-level rule heads, in order.
    pub rules: Vec<RuleHead>,
    /// The source with rules of several bodies split into one definition per body, when the
    /// file has any (`None`: use the source as it is).
    pub rewritten: Option<String>,
    /// The top-level keys of `input` the file reads, when every read is `input.<key>` or
    /// `input["<key>"]` (`None`: it may read any part of the input, e.g. `input[k]`,
    /// `walk(input)`, `x := input`, `import input`). See [`input_keys`].
    pub input_keys: Option<std::collections::BTreeSet<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Str,
    Number,
    Open(u8),
    Close(u8),
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: u32,
    column: u32,
    /// First token on its line.
    first_on_line: bool,
}

struct Comment {
    line: u32,
    text: String,
}

fn tokenize(src: &str) -> (Vec<Token>, Vec<Comment>) {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut i = 0usize;
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut last_line_with_token = 0u32;
    while let Some(&b) = bytes.get(i) {
        let column = u32::try_from(i - line_start + 1).unwrap_or(u32::MAX);
        match b {
            b'\n' => {
                line += 1;
                i += 1;
                line_start = i;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                comments.push(Comment {
                    line,
                    text: src[i + 1..end].to_owned(),
                });
                i = end;
                continue;
            }
            _ => {}
        }
        let start = i;
        let start_line = line;
        let kind = match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if c == b'"' || c == b'\n' {
                        if c == b'\n' {
                            line += 1;
                            line_start = i;
                        }
                        if c == b'"' {
                            break;
                        }
                    }
                }
                Kind::Str
            }
            b'`' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    if c == b'\n' {
                        line += 1;
                        line_start = i;
                    }
                    if c == b'`' {
                        break;
                    }
                }
                Kind::Str
            }
            b'0'..=b'9' => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    i += 1;
                }
                Kind::Number
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                Kind::Ident
            }
            b'{' | b'[' | b'(' => {
                i += 1;
                Kind::Open(b)
            }
            b'}' | b']' | b')' => {
                i += 1;
                Kind::Close(b)
            }
            other => {
                // Multi-byte UTF-8 characters only appear in strings and comments in valid
                // Rego; step over the whole character.
                i += src[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct(if other.is_ascii() { other } else { b'?' })
            }
        };
        let first_on_line = last_line_with_token != start_line;
        last_line_with_token = line;
        tokens.push(Token {
            kind,
            start,
            end: i.min(src.len()),
            line: start_line,
            column,
            first_on_line,
        });
    }
    (tokens, comments)
}

/// Scans one file.
#[must_use]
pub fn scan(src: &str) -> Scan {
    let (tokens, comments) = tokenize(src);
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();

    // Imports and keywords decide the syntax.
    let mut rego_v1_import = false;
    let mut future_import = false;
    let mut keyword_use = false;
    let mut package = None;
    let mut package_line = 0u32;
    let mut depth = 0i32;
    let mut heads: Vec<(usize, bool)> = Vec::new();
    let mut extra_bodies: Vec<(usize, usize)> = Vec::new(); // (head token index, `{` index)
    let mut current_head: Option<usize> = None;
    // Whether the `{` that opened the current top-level brace is a rule body (not a value
    // such as `p = {} {` or `else = {"a": 1} {`).
    let mut top_brace_is_body = false;
    let mut last_closed_body = false;
    let mut idx = 0usize;
    while let Some(t) = tokens.get(idx) {
        match t.kind {
            Kind::Open(b) => {
                if depth == 0 && b == b'{' {
                    let prev = idx.checked_sub(1).and_then(|i| tokens.get(i));
                    top_brace_is_body = !prev.is_some_and(|p| {
                        matches!(p.kind, Kind::Punct(b'=' | b':' | b','))
                            || (p.kind == Kind::Ident && matches!(text(p), "contains" | "in"))
                    });
                }
                depth += 1;
            }
            Kind::Close(b) => {
                depth -= 1;
                if depth == 0 && b == b'}' {
                    last_closed_body = top_brace_is_body;
                }
            }
            Kind::Ident => {
                let word = text(t);
                if depth == 0 && t.first_on_line {
                    match word {
                        "package" => {
                            package = Some(dotted_ref(src, &tokens, idx + 1));
                            package_line = t.line;
                        }
                        "import" => {
                            let path = dotted_ref(src, &tokens, idx + 1);
                            if path == "rego.v1" {
                                rego_v1_import = true;
                            } else if path.starts_with("future.keywords") {
                                future_import = true;
                            }
                        }
                        "default" => {
                            if tokens.get(idx + 1).is_some_and(|n| n.kind == Kind::Ident) {
                                heads.push((idx + 1, true));
                                current_head = Some(idx + 1);
                            }
                        }
                        "else" | "not" | "some" | "every" | "with" | "as" | "if" | "in"
                        | "contains" => {}
                        _ => {
                            heads.push((idx, false));
                            current_head = Some(idx);
                        }
                    }
                } else if depth == 0 && (word == "if" || word == "contains") {
                    keyword_use = true;
                }
            }
            _ => {}
        }
        // `} {` at top level: another body of the rule above.
        if depth == 0 && t.kind == Kind::Close(b'}') && last_closed_body {
            if let (Some(next), Some(head)) = (tokens.get(idx + 1), current_head) {
                if next.kind == Kind::Open(b'{') {
                    extra_bodies.push((head, idx + 1));
                }
            }
        }
        idx += 1;
    }
    let syntax = if rego_v1_import {
        Syntax::V1
    } else if future_import || !keyword_use {
        Syntax::V0
    } else {
        Syntax::V1
    };

    // METADATA blocks: `# METADATA` then the comment lines right below it.
    let mut blocks: Vec<(u32, Metadata)> = Vec::new(); // (line after the block, metadata)
    let mut c = 0usize;
    while let Some(comment) = comments.get(c) {
        if comment.text.trim() == "METADATA" {
            let mut yaml = String::new();
            let mut last = comment.line;
            let mut k = c + 1;
            while let Some(next) = comments.get(k) {
                if next.line != last + 1 {
                    break;
                }
                yaml.push_str(next.text.strip_prefix(' ').unwrap_or(&next.text));
                yaml.push('\n');
                last = next.line;
                k += 1;
            }
            blocks.push((last + 1, parse_metadata(&yaml)));
            c = k;
        } else {
            c += 1;
        }
    }
    let metadata_for = |line: u32| {
        blocks
            .iter()
            .find(|(after, _)| *after == line)
            .map(|(_, m)| m.clone())
    };

    let rules = heads
        .iter()
        .filter_map(|&(i, default)| {
            let t = tokens.get(i)?;
            Some(RuleHead {
                name: text(t).to_owned(),
                line: t.line,
                column: t.column,
                default,
                metadata: metadata_for(t.line),
            })
        })
        .collect();
    let mut rewritten =
        (!extra_bodies.is_empty()).then(|| split_bodies(src, &tokens, &extra_bodies));
    for pass in [
        walk_out_param as fn(&str) -> Option<String>,
        separate_newline_calls,
        hoist_negated_call_args,
        expand_import_aliases,
    ] {
        if let Some(out) = pass(rewritten.as_deref().unwrap_or(src)) {
            rewritten = Some(out);
        }
    }
    if src.contains("rego.metadata.") {
        let rule_blocks: Vec<(u32, &Metadata)> = blocks.iter().map(|(l, m)| (*l, m)).collect();
        let package_annotations = (package_line > 0)
            .then(|| metadata_for(package_line))
            .flatten();
        if let Some(out) = metadata_calls(
            rewritten.as_deref().unwrap_or(src),
            package.as_deref().unwrap_or_default(),
            &rule_blocks,
            package_annotations.as_ref(),
        ) {
            rewritten = Some(out);
        }
    }
    Scan {
        syntax,
        package,
        package_metadata: if package_line > 0 {
            metadata_for(package_line)
        } else {
            None
        },
        rules,
        rewritten,
        input_keys: input_keys(src, &tokens),
    }
}

/// The top-level keys of `input` a file reads, or `None` when it may read the input in any
/// other way. Every `input` token counts (comments and strings are not tokens), except a
/// field of something else (`x.input`) and the target of `with input ...` (a replacement,
/// not a read). `input.k` and `input["k"]` read key `k`; any other use of `input` (bare,
/// indexed by a variable, imported whole) may read all of it.
///
/// The Rego engine converts only these keys of a plan (on the rules of every loaded
/// file): what a policy cannot name, it cannot observe.
fn input_keys(src: &str, tokens: &[Token]) -> Option<std::collections::BTreeSet<String>> {
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();
    let mut keys = std::collections::BTreeSet::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident || text(t) != "input" {
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| tokens.get(p));
        if prev.is_some_and(|p| {
            p.kind == Kind::Punct(b'.') || (p.kind == Kind::Ident && text(p) == "with")
        }) {
            continue;
        }
        let next = |k: usize| tokens.get(i + k);
        let key = match (next(1), next(2), next(3)) {
            (Some(dot), Some(name), _)
                if dot.kind == Kind::Punct(b'.') && name.kind == Kind::Ident =>
            {
                Some(text(name).to_owned())
            }
            (Some(open), Some(lit), Some(close))
                if open.kind == Kind::Open(b'[')
                    && lit.kind == Kind::Str
                    && close.kind == Kind::Close(b']') =>
            {
                string_literal(text(lit))
            }
            _ => None,
        };
        keys.insert(key?);
    }
    Some(keys)
}

/// The value of a string token (`"a\"b"` or `` `raw` ``), `None` if it does not decode.
fn string_literal(token: &str) -> Option<String> {
    if let Some(raw) = token.strip_prefix('`') {
        return raw.strip_suffix('`').map(str::to_owned);
    }
    serde_json::from_str(token).ok()
}

/// `a.b["c"]` starting at token `i`, as dotted text (`a.b.c`).
fn dotted_ref(src: &str, tokens: &[Token], mut i: usize) -> String {
    let mut out = String::new();
    let line = tokens.get(i).map_or(0, |t| t.line);
    while let Some(t) = tokens.get(i) {
        if t.line != line {
            break;
        }
        let s = src.get(t.start..t.end).unwrap_or_default();
        match t.kind {
            Kind::Ident => out.push_str(s),
            Kind::Str => out.push_str(s.trim_matches('"')),
            Kind::Punct(b'.') => out.push('.'),
            Kind::Open(b'[') => out.push('.'),
            Kind::Close(b']') => {}
            _ => break,
        }
        i += 1;
    }
    out
}

/// Rewrites `head { a } { b }` into `head { a } head { b }`: the copied head goes on the
/// line of the extra body's `{`, so every line stays where it was and errors and test
/// locations still point at the user's source.
fn split_bodies(src: &str, tokens: &[Token], extra: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(src.len() + extra.len() * 16);
    let mut pos = 0usize;
    for &(head, brace) in extra {
        let (Some(h), Some(b)) = (tokens.get(head), tokens.get(brace)) else {
            continue;
        };
        // The head runs from its name to the first `{` (or `if`) of the rule at depth 0.
        let mut end = h.end;
        let mut depth = 0i32;
        for t in tokens.iter().skip(head + 1) {
            match t.kind {
                Kind::Open(b'{') if depth == 0 => break,
                Kind::Open(_) => depth += 1,
                Kind::Close(_) => depth -= 1,
                Kind::Ident if depth == 0 && src.get(t.start..t.end).is_some_and(|w| w == "if") => {
                    break
                }
                _ => {}
            }
            end = t.end;
        }
        let head_text = src.get(h.start..end).unwrap_or_default().replace('\n', " ");
        out.push_str(src.get(pos..b.start).unwrap_or_default());
        out.push_str(&head_text);
        out.push(' ');
        pos = b.start;
    }
    out.push_str(src.get(pos..).unwrap_or_default());
    out
}

/// `import data.a.b` (or `import data.a.b as x`), then `b.c.d` → `data.a.b.c.d`: what the
/// alias means in OPA, and how regorus evaluates only rule `c` of package `a.b`. regorus
/// 0.14 evaluates an imported alias followed by fields as the whole imported document and
/// then looks the fields up: for an alias of a package tree (`import data.fugue`, then
/// `fugue.plan`) that evaluates every rule of every package below it, which can recurse
/// into the rule being evaluated ("recursion detected … cyclic evaluation"). Only aliases
/// every use of which is `alias.field` are expanded (never one that is also used bare, or
/// could be a local variable), and their import then left out; lines do not move.
fn expand_import_aliases(src: &str) -> Option<String> {
    if !src.contains("import") {
        return None;
    }
    let (tokens, _) = tokenize(src);
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();
    // alias → (the imported reference as written, token range of the import).
    let mut aliases: Vec<(String, String, std::ops::Range<usize>)> = Vec::new();
    let mut i = 0usize;
    while let Some(t) = tokens.get(i) {
        if !(t.first_on_line && t.kind == Kind::Ident && text(t) == "import") {
            i += 1;
            continue;
        }
        let start = i;
        let Some(root) = tokens.get(i + 1).filter(|r| text(r) == "data") else {
            i += 1;
            continue;
        };
        // data(.ident | ["string"])*
        let mut j = i + 2;
        let mut last: Option<String> = None;
        let mut end = root.end;
        loop {
            match (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2)) {
                (Some(dot), Some(name), _)
                    if dot.kind == Kind::Punct(b'.') && name.kind == Kind::Ident =>
                {
                    last = Some(text(name).to_owned());
                    end = name.end;
                    j += 2;
                }
                (Some(open), Some(lit), Some(close))
                    if open.kind == Kind::Open(b'[')
                        && lit.kind == Kind::Str
                        && close.kind == Kind::Close(b']') =>
                {
                    last = None;
                    end = close.end;
                    j += 3;
                }
                _ => break,
            }
        }
        let alias = match (tokens.get(j), tokens.get(j + 1)) {
            (Some(a), Some(name)) if text(a) == "as" && name.kind == Kind::Ident => {
                j += 2;
                Some(text(name).to_owned())
            }
            _ => last,
        };
        if let (Some(alias), Some(path)) = (alias, src.get(root.start..end)) {
            if path != "data" && !path.contains('\n') {
                aliases.push((alias, path.to_owned(), start..j));
            }
        }
        i = j.max(i + 1);
    }
    if aliases.is_empty() {
        return None;
    }
    // `package` and `import` lines are not uses.
    let header_line: std::collections::BTreeSet<u32> = tokens
        .iter()
        .filter(|t| {
            t.first_on_line && t.kind == Kind::Ident && matches!(text(t), "package" | "import")
        })
        .map(|t| t.line)
        .collect();
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for (alias, path, import) in &aliases {
        let mut uses = Vec::new();
        let mut expandable = true;
        for (k, t) in tokens.iter().enumerate() {
            if t.kind != Kind::Ident
                || text(t) != alias
                || import.contains(&k)
                || header_line.contains(&t.line)
            {
                continue;
            }
            let prev = k.checked_sub(1).and_then(|p| tokens.get(p));
            if prev.is_some_and(|p| p.kind == Kind::Punct(b'.')) {
                continue; // a field of something else: `x.alias`
            }
            let next = tokens.get(k + 1);
            let field = tokens.get(k + 2);
            if next.is_some_and(|n| n.kind == Kind::Punct(b'.') && n.start == t.end)
                && field.is_some_and(|f| f.kind == Kind::Ident)
            {
                uses.push(k);
            } else {
                expandable = false;
                break;
            }
        }
        if expandable {
            for k in uses {
                if let Some(t) = tokens.get(k) {
                    edits.push((t.start, t.end, path.as_str()));
                }
            }
            // The import is no longer used: leave it out. (regorus 0.14 also fails to find
            // the functions of a package `a.b` that imports `data.a` as `a`: "could not find
            // function data.a.b.f".)
            let (first, last) = (tokens.get(import.start), tokens.get(import.end - 1));
            if let (Some(first), Some(last)) = (first, last) {
                if first.line == last.line {
                    edits.push((first.start, last.end, ""));
                }
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_unstable_by_key(|e| e.0);
    let mut out = String::with_capacity(src.len() + edits.len() * 16);
    let mut pos = 0usize;
    for (start, end, path) in edits {
        out.push_str(src.get(pos..start)?);
        out.push_str(path);
        pos = end;
    }
    out.push_str(src.get(pos..)?);
    Some(out)
}

/// `rego.metadata.rule()` and `rego.metadata.chain()`, which regorus lacks, replaced by
/// their value: the `# METADATA` annotations of the rule the call is in (rule scope) and,
/// for the chain, that rule then its package, each `{"path": [...], "annotations": {...}}`
/// (the rule's entry without `annotations` when it has none). One literal on the call's
/// line, so lines do not move. `blocks`: (line of the rule below the block, annotations).
fn metadata_calls(
    src: &str,
    package: &str,
    blocks: &[(u32, &Metadata)],
    package_meta: Option<&Metadata>,
) -> Option<String> {
    let (tokens, _) = tokenize(src);
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();
    let annotations = |m: &Metadata, scope: &str| {
        let mut a = m.annotations.clone();
        a.entry("scope")
            .or_insert_with(|| serde_json::Value::from(scope));
        serde_json::Value::Object(a)
    };
    let package_path: Vec<serde_json::Value> = std::iter::once("data")
        .chain(package.split('.').filter(|s| !s.is_empty()))
        .map(serde_json::Value::from)
        .collect();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut depth = 0i32;
    let mut head: Option<(String, u32)> = None;
    let mut i = 0usize;
    while let Some(t) = tokens.get(i) {
        match t.kind {
            Kind::Open(_) => depth += 1,
            Kind::Close(_) => depth -= 1,
            Kind::Ident if depth == 0 && t.first_on_line => {
                let word = text(t);
                match word {
                    "package" | "import" | "else" => {}
                    "default" => {
                        head = tokens.get(i + 1).map(|n| (text(n).to_owned(), t.line));
                    }
                    _ => head = Some((word.to_owned(), t.line)),
                }
            }
            Kind::Ident if text(t) == "rego" => {
                let call: Vec<&str> = tokens
                    .get(i..i + 7)
                    .map(|w| w.iter().map(&text).collect())
                    .unwrap_or_default();
                let after_dot = i
                    .checked_sub(1)
                    .and_then(|p| tokens.get(p))
                    .is_some_and(|p| p.kind == Kind::Punct(b'.'));
                if let (
                    ["rego", ".", "metadata", ".", which, "(", ")"],
                    false,
                    Some((name, line)),
                ) = (call.as_slice(), after_dot, &head)
                {
                    let rule_meta = blocks
                        .iter()
                        .find(|(below, _)| below == line)
                        .map(|(_, m)| *m)
                        .filter(|m| m.scope.as_deref().is_none_or(|s| s == "rule"));
                    let rule = rule_meta.map_or_else(
                        || serde_json::Value::Object(serde_json::Map::new()),
                        |m| annotations(m, "rule"),
                    );
                    let value = match *which {
                        "rule" => Some(rule),
                        "chain" => {
                            let mut path = package_path.clone();
                            path.push(serde_json::Value::from(name.as_str()));
                            let mut first = serde_json::json!({ "path": path });
                            if rule_meta.is_some() {
                                first["annotations"] = rule;
                            }
                            let mut chain = vec![first];
                            if let Some(p) = package_meta {
                                chain.push(serde_json::json!({
                                    "path": package_path.clone(),
                                    "annotations": annotations(p, "package"),
                                }));
                            }
                            Some(serde_json::Value::Array(chain))
                        }
                        _ => None,
                    };
                    if let (Some(value), Some(last)) = (value, tokens.get(i + 6)) {
                        edits.push((t.start, last.end, value.to_string()));
                        i += 7;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(src.len() + edits.len() * 64);
    let mut pos = 0usize;
    for (start, end, literal) in edits {
        out.push_str(src.get(pos..start)?);
        out.push_str(&literal);
        pos = end;
    }
    out.push_str(src.get(pos..)?);
    Some(out)
}

/// `not f(a.b, g(x))` → `__warden_neg1 := a.b; __warden_neg2 := g(x); not f(__warden_neg1,
/// __warden_neg2)`: how OPA compiles a negated call whose arguments are not plain variables
/// or constants (open-policy-agent/opa#1877): the arguments are evaluated before the
/// negation, so an undefined argument makes the body undefined instead of `not` true.
/// regorus negates the whole call. Only a call that is the whole statement (`not` after `{`,
/// `;`, `|` or at the start of a line; nothing but the end of the statement after it; no
/// `with`), arguments on one line without `_`; lines do not move.
fn hoist_negated_call_args(src: &str) -> Option<String> {
    if !src.contains("not ") {
        return None;
    }
    let (tokens, _) = tokenize(src);
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut stack: Vec<u8> = Vec::new();
    let mut counter = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Open(b) => stack.push(b),
            Kind::Close(_) => {
                stack.pop();
            }
            _ => {}
        }
        if t.kind != Kind::Ident || text(t) != "not" || stack.is_empty() {
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| tokens.get(p));
        let starts_statement = t.first_on_line
            || prev.is_some_and(|p| matches!(p.kind, Kind::Open(b'{') | Kind::Punct(b';' | b'|')));
        if !starts_statement {
            continue;
        }
        // The called name: ident(.ident)*, then `(`.
        let mut j = i + 1;
        if tokens.get(j).is_none_or(|n| n.kind != Kind::Ident) {
            continue;
        }
        j += 1;
        while tokens.get(j).is_some_and(|d| d.kind == Kind::Punct(b'.'))
            && tokens.get(j + 1).is_some_and(|n| n.kind == Kind::Ident)
        {
            j += 2;
        }
        if tokens.get(j).is_none_or(|o| o.kind != Kind::Open(b'(')) {
            continue;
        }
        // Arguments up to the matching `)`.
        let mut depth = 0i32;
        let mut args: Vec<(usize, usize)> = Vec::new(); // token ranges
        let mut arg_start = j + 1;
        let mut close = None;
        for (k, a) in tokens.iter().enumerate().skip(j) {
            match a.kind {
                Kind::Open(_) => depth += 1,
                Kind::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        if k > arg_start {
                            args.push((arg_start, k));
                        }
                        close = Some(k);
                        break;
                    }
                }
                Kind::Punct(b',') if depth == 1 => {
                    args.push((arg_start, k));
                    arg_start = k + 1;
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            continue;
        };
        // The call is the whole statement.
        let (Some(close_tok), next) = (tokens.get(close), tokens.get(close + 1)) else {
            continue;
        };
        let ends_statement = next.is_none_or(|n| {
            n.line > close_tok.line
                || matches!(n.kind, Kind::Punct(b';') | Kind::Close(b'}' | b']'))
        });
        if !ends_statement {
            continue;
        }
        let mut hoisted = String::new();
        let mut call_edits = Vec::new();
        for &(a, b) in &args {
            let (Some(first), Some(last)) = (tokens.get(a), tokens.get(b - 1)) else {
                continue;
            };
            let arg = tokens.get(a..b).unwrap_or_default();
            let simple = arg.len() == 1;
            let wildcard = arg.iter().any(|x| x.kind == Kind::Ident && text(x) == "_");
            let Some(arg_text) = src.get(first.start..last.end) else {
                continue;
            };
            if simple || wildcard || arg_text.contains('\n') {
                continue;
            }
            counter += 1;
            let name = format!("__warden_neg{counter}");
            hoisted.push_str(&format!("{name} := {arg_text}; "));
            call_edits.push((first.start, last.end, name));
        }
        if hoisted.is_empty() {
            continue;
        }
        edits.push((t.start, t.start, hoisted));
        edits.extend(call_edits);
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(src.len() + edits.len() * 24);
    let mut pos = 0usize;
    for (start, end, replacement) in edits {
        out.push_str(src.get(pos..start)?);
        out.push_str(&replacement);
        pos = end;
    }
    out.push_str(src.get(pos..)?);
    Some(out)
}

/// `[path, value] = walk(x)` (or `:=`) → `walk(x, [path, value])`: regorus iterates `walk`
/// only in its output-argument form. One line at a time, so lines do not move.
fn walk_out_param(src: &str) -> Option<String> {
    if !src.contains("walk(") {
        return None;
    }
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]\s*:?=\s*walk\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)",
            )
            .ok()
        })
        .as_ref()?;
    let out = re.replace_all(src, "walk($3, [$1, $2])");
    match out {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(o) => Some(o),
    }
}

/// A body line that starts with `(` after a line ending in a term (`x.y\n  (a - b) > 1`) is
/// a new expression in OPA, but regorus reads it as a call of the term: end the previous
/// expression with `;`.
fn separate_newline_calls(src: &str) -> Option<String> {
    let (tokens, _) = tokenize(src);
    let mut stack: Vec<u8> = Vec::new();
    let mut inserts: Vec<usize> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Open(b) => {
                if b == b'(' && t.first_on_line && stack.last() == Some(&b'{') {
                    if let Some(prev) = i.checked_sub(1).and_then(|p| tokens.get(p)) {
                        if prev.line < t.line
                            && matches!(
                                prev.kind,
                                Kind::Ident | Kind::Str | Kind::Number | Kind::Close(b']' | b')')
                            )
                        {
                            inserts.push(prev.end);
                        }
                    }
                }
                stack.push(b);
            }
            Kind::Close(_) => {
                stack.pop();
            }
            _ => {}
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(src.len() + inserts.len());
    let mut pos = 0;
    for at in inserts {
        out.push_str(src.get(pos..at).unwrap_or_default());
        out.push(';');
        pos = at;
    }
    out.push_str(src.get(pos..).unwrap_or_default());
    Some(out)
}

/// `with rule as v`, where `rule` is a rule of the file's own package, → `with
/// data.<package>.rule as v`: OPA resolves such relative targets, regorus does not.
#[must_use]
pub fn qualify_with_targets(
    src: &str,
    package: &str,
    rules: &std::collections::BTreeSet<String>,
) -> Option<String> {
    if !src.contains("with") {
        return None;
    }
    let (tokens, _) = tokenize(src);
    let text = |t: &Token| src.get(t.start..t.end).unwrap_or_default();
    let mut inserts = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident || text(t) != "with" {
            continue;
        }
        let Some(target) = tokens.get(i + 1) else {
            continue;
        };
        if target.kind == Kind::Ident && rules.contains(text(target)) {
            inserts.push(target.start);
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let prefix = format!(
        "{}.",
        crate::test_runner::rule_path(package, "").trim_end_matches("[\"\"]")
    );
    let mut out = String::with_capacity(src.len() + inserts.len() * prefix.len());
    let mut pos = 0;
    for at in inserts {
        out.push_str(src.get(pos..at).unwrap_or_default());
        out.push_str(&prefix);
        pos = at;
    }
    out.push_str(src.get(pos..).unwrap_or_default());
    Some(out)
}

fn parse_metadata(yaml: &str) -> Metadata {
    let Ok(doc) = serde_yaml_ng::from_str::<serde_json::Value>(yaml) else {
        return Metadata::default();
    };
    let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let mut annotations = doc.as_object().cloned().unwrap_or_default();
    if let Some(serde_json::Value::Array(refs)) = annotations.get_mut("related_resources") {
        for r in refs.iter_mut() {
            if let serde_json::Value::String(url) = r {
                *r = serde_json::json!({ "ref": url });
            }
        }
    }
    Metadata {
        annotations,
        scope: s("scope"),
        title: s("title"),
        description: s("description"),
        custom: doc
            .get("custom")
            .and_then(|v| v.as_object())
            .cloned()
            .unwrap_or_default(),
        related: doc
            .get("related_resources")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        r.get("ref")
                            .and_then(|x| x.as_str())
                            .or_else(|| r.as_str())
                            .map(str::to_owned)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_calls_evaluate_their_arguments_first() {
        let src = "package a\np {\n  x := {\"r\": 1}\n  not f2(x.missing, 2)\n}\nq {\n  not f(input.y)\n}\nr { x := [1]; not f(x[_]) ; not g(1) }\ns { not f(input.z) with input as {} }\nf(_) := false\nf2(_, _) := false\ng(_) := false\n";
        let out = scan(src).rewritten.unwrap();
        assert!(
            out.contains("  __warden_neg1 := x.missing; not f2(__warden_neg1, 2)\n"),
            "{out}"
        );
        assert!(
            out.contains("  __warden_neg2 := input.y; not f(__warden_neg2)\n"),
            "{out}"
        );
        assert!(
            out.contains("r { x := [1]; not f(x[_]) ; not g(1) }"),
            "{out}"
        );
        assert!(
            out.contains("s { not f(input.z) with input as {} }"),
            "{out}"
        );
        // As OPA: the undefined argument makes the body undefined.
        let compiled = crate::loader::compile(
            vec![crate::loader::PolicyFile::new("n.rego", src.to_owned())],
            &regorus::Value::Undefined,
            &crate::loader::Options::default(),
        );
        assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
        let mut engine = compiled.engine.clone();
        assert_eq!(
            engine.eval_rule("data.a.p".to_owned()).unwrap(),
            regorus::Value::Undefined
        );
    }

    #[test]
    fn rego_metadata_rule_and_chain() {
        let src = "# METADATA\n# title: Pkg\n# description: the package\npackage a.b\n\n# METADATA\n# title: No root\n# custom:\n#   severity: high\n# related_resources:\n# - https://x\ndeny[msg] {\n  msg := rego.metadata.rule().title\n  c := rego.metadata.chain()\n}\n\nwarn[m] {\n  m := rego.metadata.rule()\n  c := rego.metadata.chain()\n}\n";
        let out = scan(src).rewritten.unwrap();
        assert_eq!(out.lines().count(), src.lines().count());
        let line = |n: usize| out.lines().nth(n).unwrap().trim().to_owned();
        assert_eq!(
            line(12),
            r#"msg := {"custom":{"severity":"high"},"related_resources":[{"ref":"https://x"}],"scope":"rule","title":"No root"}.title"#
        );
        assert_eq!(
            line(13),
            r#"c := [{"annotations":{"custom":{"severity":"high"},"related_resources":[{"ref":"https://x"}],"scope":"rule","title":"No root"},"path":["data","a","b","deny"]},{"annotations":{"description":"the package","scope":"package","title":"Pkg"},"path":["data","a","b"]}]"#
        );
        assert_eq!(line(17), "m := {}");
        assert_eq!(
            line(18),
            r#"c := [{"path":["data","a","b","warn"]},{"annotations":{"description":"the package","scope":"package","title":"Pkg"},"path":["data","a","b"]}]"#
        );
        // regorus evaluates the rewritten calls.
        let compiled = crate::loader::compile(
            vec![crate::loader::PolicyFile::new("m.rego", src.to_owned())],
            &regorus::Value::Undefined,
            &crate::loader::Options::default(),
        );
        assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
        let mut engine = compiled.engine.clone();
        let deny = engine.eval_rule("data.a.b.deny".to_owned()).unwrap();
        assert_eq!(serde_json::to_string(&deny).unwrap(), r#"["No root"]"#);
    }

    #[test]
    fn input_keys_read() {
        let keys = |src: &str| {
            scan(src)
                .input_keys
                .map(|k| k.into_iter().collect::<Vec<_>>().join(","))
        };
        assert_eq!(
            keys("package a\n# input[x] in a comment\ndeny[m] { r := input.resource_changes[_]; m := \"input\" }\nw { input[\"planned_values\"]; input[`x`] }\nt { data.input.z; f with input as {} ; g with input.q as 1 }\n").as_deref(),
            Some("planned_values,resource_changes,x")
        );
        assert_eq!(keys("package a\np { true }").as_deref(), Some(""));
        assert_eq!(
            keys("package a\nimport input.review as r\np { r.x }").as_deref(),
            Some("review")
        );
        for whole in [
            "package a\np { x := input }",
            "package a\np { input[k] }",
            "package a\np { walk(input, [p, v]) }",
            "package a\nimport input\np { input.x }",
            "package a\np { some r in input }",
            "package a\np { input[\"a\"][\"b\"]; input[\"\\u0061\"]; input[k] }",
        ] {
            assert_eq!(keys(whole), None, "{whole}");
        }
    }

    #[test]
    fn syntax_detection() {
        assert_eq!(
            scan("package a\ndeny[msg] { msg := \"x\" }").syntax,
            Syntax::V0
        );
        assert_eq!(
            scan("package a\ndeny contains msg if { msg := \"x\" }").syntax,
            Syntax::V1
        );
        assert_eq!(
            scan("package a\nimport rego.v1\ndeny contains msg if { true; msg := 1 }").syntax,
            Syntax::V1
        );
        assert_eq!(
            scan("package a\nimport future.keywords.if\ndeny[msg] if { msg := 1 }").syntax,
            Syntax::V0
        );
        // Keywords inside strings and comments do not count.
        assert_eq!(
            scan("package a\n# contains if\ndeny[msg] { msg := \"if contains\" }").syntax,
            Syntax::V0
        );
    }

    #[test]
    fn heads_package_and_metadata() {
        let src = "# METADATA\n# title: Pkg\n# scope: package\npackage main.k8s\n\n# METADATA\n# title: No root\n# description: Containers must not run as root.\n# custom:\n#   id: K8S-1\n#   severity: high\ndeny_root[msg] {\n  input.x\n  msg := \"{\"\n}\n\ndefault allow = false\ntest_a { true }\n";
        let s = scan(src);
        assert_eq!(s.package.as_deref(), Some("main.k8s"));
        assert_eq!(s.package_metadata.unwrap().title.as_deref(), Some("Pkg"));
        let names: Vec<_> = s.rules.iter().map(|r| (r.name.as_str(), r.line)).collect();
        assert_eq!(names, [("deny_root", 12), ("allow", 17), ("test_a", 18)]);
        let m = s.rules[0].metadata.clone().unwrap();
        assert_eq!(m.title.as_deref(), Some("No root"));
        assert_eq!(m.custom["id"], "K8S-1");
        assert!(s.rules[1].default);
        assert!(s.rewritten.is_none());
    }

    #[test]
    fn regorus_workarounds() {
        let s = scan("package a\nx := [p | [p, v] = walk(input)]\ny { input.a\n  (1 + 2) > 1 }\n");
        let out = s.rewritten.unwrap();
        assert!(out.contains("[p | walk(input, [p, v])]"), "{out}");
        assert!(out.contains("input.a;\n  (1 + 2)"), "{out}");
        let rules = ["r".to_owned()].into_iter().collect();
        let out = qualify_with_targets(
            "package a\nt { p with r as 7 with input as 1 }",
            "a",
            &rules,
        );
        assert_eq!(
            out.unwrap(),
            "package a\nt { p with data.a.r as 7 with input as 1 }"
        );
        // Import aliases used only as `alias.field` become full references.
        let out = scan("package fugue.a\nimport data.fugue\nimport data.lib.k8s as k\nimport data.x.y\nimport data.z\np { fugue.plan.c; k.f(1); x.fugue.q; y.a }\nq { y }\nr { z[k2] }\n").rewritten.unwrap();
        assert_eq!(
            out,
            "package fugue.a\n\n\nimport data.x.y\nimport data.z\np { data.fugue.plan.c; data.lib.k8s.f(1); x.fugue.q; y.a }\nq { y }\nr { z[k2] }\n"
        );
    }

    #[test]
    fn several_bodies_are_split() {
        let src = "package a\np[x] {\n  x := 1\n} {\n  x := 2\n}\nq { true }\nf(x) = {} { x } else = {1} { true }\n";
        let s = scan(src);
        let out = s.rewritten.unwrap();
        assert!(out.contains("} p[x] {\n  x := 2"), "{out}");
        assert_eq!(s.rules.len(), 3);
        assert!(
            out.ends_with("f(x) = {} { x } else = {1} { true }\n"),
            "{out}"
        );
        // Object values before a body are not extra bodies.
        assert!(scan("package a\nf(x) = {\"a\": x} {\n  not x\n}\n")
            .rewritten
            .is_none());
    }
}
