//! The hash-chained audit log: the record, its canonical form, verification and export.
//!
//! # The chain
//!
//! Every state change in the store appends one [`AuditRecord`] in the same transaction as the
//! change. Records are numbered from 1 (`seq`, no gaps). Each carries `prev_hash`, the `hash`
//! of the record before it ([`GENESIS_HASH`] for record 1), and its own `hash`:
//!
//! ```text
//! hash = "sha256:" + lowercase hex of SHA-256( canonical JSON of the record without "hash" )
//! ```
//!
//! # Canonical JSON
//!
//! The record is the JSON object with exactly these members: `seq` (integer), `at` (string,
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC), `actor` (string), `actor_kind` (`human` | `agent` |
//! `pipeline` | `system`), `action` (string such as `approval.approved`), `subject` (string such
//! as `approval/12`), `space` (string or null), `detail` (object), `prev_hash` (string), and in
//! an export also `hash`. Its canonical form is written:
//!
//! - with no whitespace outside strings;
//! - with the members of every object (nested ones too) sorted by the UTF-8 bytes of their keys;
//! - with strings escaped minimally: `"` and `\` as `\"` and `\\`; backspace, form feed,
//!   newline, carriage return and tab as `\b \f \n \r \t`; other characters below U+0020 as
//!   `\u00xx` (lowercase hex); everything else (non-ASCII included) as its UTF-8 bytes;
//! - with integers in plain decimal. Records hold no fractional numbers: a detail with one is
//!   refused when the record is written.
//!
//! This is what Python's `json.dumps(record, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)` writes, so an auditor can check an export with a few lines of any
//! language: for each line, drop `hash`, canonicalise, hash, compare; and check that each
//! `prev_hash` equals the previous line's `hash`.
//!
//! Checking an export without Warden (Python 3, standard library only):
//!
//! ```text
//! import hashlib, json, sys
//! prev = None
//! for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
//!     r = json.loads(line)
//!     stored = r.pop("hash")
//!     text = json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//!     if "sha256:" + hashlib.sha256(text.encode()).hexdigest() != stored:
//!         sys.exit(f"line {n} (record {r['seq']}): contents changed")
//!     if prev is not None and (r["prev_hash"] != prev[1] or r["seq"] != prev[0] + 1):
//!         sys.exit(f"line {n} (record {r['seq']}): does not follow line {n - 1}")
//!     prev = (r["seq"], stored)
//! print("intact")
//! ```
//!
//! (`tests/it/sqlite.rs` runs this script against an export when `python3` is installed.)
//!
//! # Export
//!
//! [`write_jsonl`] writes one canonical record per line, `hash` included, in `seq` order.
//! An export that starts after record 1 (`--since`) starts with a record whose `prev_hash` is
//! the anchor: the auditor compares it with the same record in a later full export, or with
//! the head the server reports.

use std::io::{BufRead, Write};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When it was written (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub at: String,
    /// Principal that caused it.
    pub actor: String,
    /// `human`, `agent`, `pipeline` or `system`.
    pub actor_kind: String,
    /// What happened (`decision.recorded`, `approval.approved`, `token.created` ...).
    pub action: String,
    /// What it happened to (`decision/4`, `approval/2`, `token/1`, `space/dev`).
    pub subject: String,
    /// The space, when the subject belongs to one.
    pub space: Option<String>,
    /// Action-specific facts (a JSON object, integers only).
    pub detail: Value,
    /// `hash` of the record before.
    pub prev_hash: String,
    /// This record's hash (see the module docs).
    pub hash: String,
}

/// A new record's contents, before the store numbers and chains it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// What happened.
    pub action: String,
    /// What it happened to.
    pub subject: String,
    /// The space, when the subject belongs to one.
    pub space: Option<String>,
    /// Action-specific facts (a JSON object; integers only).
    pub detail: Value,
}

impl AuditEvent {
    /// An event with the given action, subject, space and detail.
    pub fn new(
        action: impl Into<String>,
        subject: impl Into<String>,
        space: Option<&str>,
        detail: Value,
    ) -> AuditEvent {
        AuditEvent {
            action: action.into(),
            subject: subject.into(),
            space: space.map(str::to_owned),
            detail,
        }
    }
}

impl AuditRecord {
    /// The record as a JSON object; with or without its `hash` member.
    #[must_use]
    pub fn to_json(&self, with_hash: bool) -> Value {
        let mut m = Map::new();
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("at".into(), Value::from(self.at.clone()));
        m.insert("actor".into(), Value::from(self.actor.clone()));
        m.insert("actor_kind".into(), Value::from(self.actor_kind.clone()));
        m.insert("action".into(), Value::from(self.action.clone()));
        m.insert("subject".into(), Value::from(self.subject.clone()));
        m.insert(
            "space".into(),
            self.space.clone().map_or(Value::Null, Value::from),
        );
        m.insert("detail".into(), self.detail.clone());
        m.insert("prev_hash".into(), Value::from(self.prev_hash.clone()));
        if with_hash {
            m.insert("hash".into(), Value::from(self.hash.clone()));
        }
        Value::Object(m)
    }

    /// The hash this record should carry (over its canonical form without `hash`).
    pub fn compute_hash(&self) -> Result<String> {
        Ok(hash_canonical(&canonical_json(&self.to_json(false))?))
    }

    /// Reads a record from its JSON object (an export line).
    pub fn from_json(value: &Value) -> Result<AuditRecord> {
        let obj = value
            .as_object()
            .ok_or_else(|| StoreError::Corrupt("an audit record is not a JSON object".into()))?;
        let text = |k: &str| -> Result<String> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Corrupt(format!("audit record without string `{k}`")))
        };
        let known = [
            "seq",
            "at",
            "actor",
            "actor_kind",
            "action",
            "subject",
            "space",
            "detail",
            "prev_hash",
            "hash",
        ];
        if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(StoreError::Corrupt(format!(
                "audit record with unknown member `{k}`"
            )));
        }
        Ok(AuditRecord {
            seq: obj
                .get("seq")
                .and_then(Value::as_i64)
                .ok_or_else(|| StoreError::Corrupt("audit record without integer `seq`".into()))?,
            at: text("at")?,
            actor: text("actor")?,
            actor_kind: text("actor_kind")?,
            action: text("action")?,
            subject: text("subject")?,
            space: match obj.get("space") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(StoreError::Corrupt(
                        "audit record `space` is neither a string nor null".into(),
                    ))
                }
            },
            detail: obj.get("detail").cloned().unwrap_or(Value::Null),
            prev_hash: text("prev_hash")?,
            hash: text("hash")?,
        })
    }
}

/// The canonical JSON text of a value (see the module docs). Fails on fractional numbers.
pub fn canonical_json(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                return Err(StoreError::Invalid(format!(
                    "audit records hold integers only, not {n}"
                )));
            }
        }
        Value::String(s) => out.push_str(&serde_json::to_string(s)?),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k)?);
                out.push(':');
                write_canonical(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// `sha256:<hex>` of canonical text.
#[must_use]
pub fn hash_canonical(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Why the chain is broken at a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The record's contents do not hash to its `hash`: it was edited.
    Edited {
        /// Hash the record carries.
        stored: String,
        /// Hash of its contents.
        computed: String,
    },
    /// The record does not follow the one before it (`prev_hash` differs): a record before it
    /// was deleted, inserted or moved.
    Unlinked {
        /// `prev_hash` the record carries.
        prev_hash: String,
        /// `hash` of the record before it (or the anchor).
        expected: String,
    },
    /// The numbering jumps: records were deleted or reordered.
    Gap {
        /// The number expected here.
        expected: i64,
    },
    /// The chain ends before the head the store recorded: records at the end were deleted
    /// (or the head was changed).
    Truncated {
        /// Last record the head names.
        head_seq: i64,
        /// Its hash, as the head holds it.
        head_hash: String,
    },
    /// The record cannot be read at all.
    Unreadable(String),
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Edited { stored, computed } => write!(
                f,
                "contents changed: it carries hash {stored} but hashes to {computed}"
            ),
            Break::Unlinked {
                prev_hash,
                expected,
            } => write!(
                f,
                "does not follow the record before it: prev_hash {prev_hash}, expected {expected} (a record before it was deleted, inserted or moved)"
            ),
            Break::Gap { expected } => write!(
                f,
                "numbering jumps: record {expected} expected here (records deleted or reordered)"
            ),
            Break::Truncated {
                head_seq,
                head_hash,
            } => write!(
                f,
                "the chain ends before its head, record {head_seq} ({head_hash}): records at the end were deleted"
            ),
            Break::Unreadable(why) => write!(f, "unreadable: {why}"),
        }
    }
}

/// The first broken link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// `seq` of the record where the chain breaks (for [`Break::Gap`], the record found at
    /// the expected position; for [`Break::Truncated`], the head's).
    pub seq: i64,
    /// 1-based position of that record in the walk (the line number of an export).
    pub position: u64,
    /// Why.
    pub reason: Break,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit record {} (position {}): {}",
            self.seq, self.position, self.reason
        )
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Records checked up to the first break (all of them when intact).
    pub records: u64,
    /// `seq` and `hash` of the last intact record.
    pub last: Option<(i64, String)>,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

impl Verification {
    /// True when no link is broken.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Walks the chain incrementally: feed records in order, then [`ChainVerifier::finish`].
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: Option<i64>,
    expected_prev: Option<String>,
    records: u64,
    position: u64,
    last: Option<(i64, String)>,
    broken: Option<BrokenLink>,
}

impl ChainVerifier {
    /// A verifier for a chain that starts at record 1 ([`GENESIS_HASH`]).
    #[must_use]
    pub fn from_genesis() -> ChainVerifier {
        ChainVerifier {
            expected_seq: Some(1),
            expected_prev: Some(GENESIS_HASH.to_owned()),
            records: 0,
            position: 0,
            last: None,
            broken: None,
        }
    }

    /// A verifier for a partial export: the first record's `seq` and `prev_hash` are taken as
    /// the anchor.
    #[must_use]
    pub fn anchored_at_first() -> ChainVerifier {
        ChainVerifier {
            expected_seq: None,
            expected_prev: None,
            ..ChainVerifier::from_genesis()
        }
    }

    /// True once a break has been found (later records are not looked at).
    #[must_use]
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Checks the next record.
    pub fn push(&mut self, record: &AuditRecord) {
        if self.broken.is_some() {
            return;
        }
        self.position += 1;
        let fail = |reason| BrokenLink {
            seq: record.seq,
            position: self.position,
            reason,
        };
        if let Some(expected) = self.expected_seq {
            if record.seq != expected {
                self.broken = Some(fail(Break::Gap { expected }));
                return;
            }
        }
        if let Some(expected) = &self.expected_prev {
            if &record.prev_hash != expected {
                self.broken = Some(fail(Break::Unlinked {
                    prev_hash: record.prev_hash.clone(),
                    expected: expected.clone(),
                }));
                return;
            }
        }
        match record.compute_hash() {
            Ok(computed) if computed == record.hash => {}
            Ok(computed) => {
                self.broken = Some(fail(Break::Edited {
                    stored: record.hash.clone(),
                    computed,
                }));
                return;
            }
            Err(e) => {
                self.broken = Some(fail(Break::Unreadable(e.to_string())));
                return;
            }
        }
        self.records += 1;
        self.expected_seq = Some(record.seq.saturating_add(1));
        self.expected_prev = Some(record.hash.clone());
        self.last = Some((record.seq, record.hash.clone()));
    }

    /// Records an unreadable record at the next position.
    pub fn push_unreadable(&mut self, seq: i64, why: String) {
        if self.broken.is_none() {
            self.position += 1;
            self.broken = Some(BrokenLink {
                seq,
                position: self.position,
                reason: Break::Unreadable(why),
            });
        }
    }

    /// Ends the walk; `head` is the store's recorded head (`seq`, `hash`) when there is one.
    #[must_use]
    pub fn finish(mut self, head: Option<(i64, String)>) -> Verification {
        if self.broken.is_none() {
            if let Some((head_seq, head_hash)) = head {
                let last_seq = self.last.as_ref().map_or(0, |l| l.0);
                let matches = match &self.last {
                    Some((seq, hash)) => *seq == head_seq && *hash == head_hash,
                    None => head_seq == 0,
                };
                if !matches {
                    self.broken = Some(BrokenLink {
                        seq: head_seq.max(last_seq),
                        position: self.position + 1,
                        reason: Break::Truncated {
                            head_seq,
                            head_hash,
                        },
                    });
                }
            }
        }
        Verification {
            records: self.records,
            last: self.last,
            broken: self.broken,
        }
    }
}

/// Verifies records in order from genesis, against an optional head.
#[must_use]
pub fn verify_records<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    head: Option<(i64, String)>,
) -> Verification {
    let mut v = ChainVerifier::from_genesis();
    for r in records {
        v.push(r);
        if v.is_broken() {
            break;
        }
    }
    v.finish(head)
}

/// Writes records as JSONL, one canonical record (with `hash`) per line. Returns the count.
pub fn write_jsonl<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut n = 0;
    for r in records {
        let line = canonical_json(&r.to_json(true))?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}

/// Verifies a JSONL export. A full export (first record 1) is checked from genesis; a partial
/// one from its first record's `prev_hash`.
pub fn verify_jsonl(input: &mut dyn BufRead) -> Result<Verification> {
    let mut verifier: Option<ChainVerifier> = None;
    let mut line = String::new();
    let mut position: i64 = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        position += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Value>(&line)
            .map_err(StoreError::from)
            .and_then(|v| AuditRecord::from_json(&v));
        let v = verifier.get_or_insert_with(|| match &parsed {
            Ok(r) if r.seq == 1 => ChainVerifier::from_genesis(),
            Ok(_) => ChainVerifier::anchored_at_first(),
            Err(_) => ChainVerifier::from_genesis(),
        });
        match parsed {
            Ok(record) => v.push(&record),
            Err(e) => v.push_unreadable(position, format!("line {position}: {e}")),
        }
        if v.is_broken() {
            break;
        }
    }
    Ok(verifier
        .unwrap_or_else(ChainVerifier::from_genesis)
        .finish(None))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    at: "2026-01-01T00:00:00.000Z".into(),
                    actor: "alice".into(),
                    actor_kind: "human".into(),
                    action: "test.event".into(),
                    subject: format!("thing/{seq}"),
                    space: Some("dev".into()),
                    detail: json!({"n": seq, "zeta": "é\n", "alpha": [1, {"b": 2, "a": null}]}),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = r.compute_hash().unwrap();
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn canonical_form_sorts_keys_and_escapes_minimally() {
        let v = json!({"b": 1, "a": {"y": "é\"\u{1}\t", "x": [true, null]}, "B": -3});
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"B":-3,"a":{"x":[true,null],"y":"é\"\u0001\t"},"b":1}"#
        );
        assert!(canonical_json(&json!({"f": 1.5})).is_err());
    }

    #[test]
    fn known_hash_of_a_record() {
        // Python: hashlib.sha256(json.dumps(r, sort_keys=True, separators=(",",":"),
        // ensure_ascii=False).encode()).hexdigest() over the record below.
        let r = &chain(1)[0];
        assert_eq!(
            canonical_json(&r.to_json(false)).unwrap(),
            r#"{"action":"test.event","actor":"alice","actor_kind":"human","at":"2026-01-01T00:00:00.000Z","detail":{"alpha":[1,{"a":null,"b":2}],"n":1,"zeta":"é\n"},"prev_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","seq":1,"space":"dev","subject":"thing/1"}"#
        );
        assert_eq!(
            r.hash,
            "sha256:e5bce35e9b81d6503424daf6e29e7194517e3c458df70323d70cbeeaecb91786"
        );
    }

    #[test]
    fn intact_chain_verifies_against_its_head() {
        let c = chain(5);
        let head = Some((5, c[4].hash.clone()));
        let v = verify_records(&c, head);
        assert!(v.is_intact(), "{v:?}");
        assert_eq!(v.records, 5);
    }

    #[test]
    fn edited_deleted_reordered_and_truncated_are_named() {
        let c = chain(5);
        let head = Some((5, c[4].hash.clone()));

        let mut edited = c.clone();
        edited[2].actor = "mallory".into();
        let b = verify_records(&edited, head.clone()).broken.unwrap();
        assert_eq!(b.seq, 3);
        assert!(matches!(b.reason, Break::Edited { .. }));

        let mut deleted = c.clone();
        deleted.remove(1);
        let b = verify_records(&deleted, head.clone()).broken.unwrap();
        assert_eq!((b.seq, b.position), (3, 2));
        assert!(matches!(b.reason, Break::Gap { expected: 2 }));

        let mut reordered = c.clone();
        reordered.swap(1, 3);
        let b = verify_records(&reordered, head.clone()).broken.unwrap();
        assert_eq!(b.position, 2);

        let truncated = &c[..4];
        let b = verify_records(truncated, head).broken.unwrap();
        assert!(matches!(b.reason, Break::Truncated { head_seq: 5, .. }));
    }

    #[test]
    fn jsonl_export_round_trips_and_detects_edits() {
        let c = chain(4);
        let mut buf = Vec::new();
        assert_eq!(write_jsonl(&c, &mut buf).unwrap(), 4);
        let v = verify_jsonl(&mut buf.as_slice()).unwrap();
        assert!(v.is_intact());
        assert_eq!(v.records, 4);

        // A partial export is anchored at its first record.
        let mut part = Vec::new();
        write_jsonl(&c[2..], &mut part).unwrap();
        assert!(verify_jsonl(&mut part.as_slice()).unwrap().is_intact());

        let text = String::from_utf8(buf)
            .unwrap()
            .replace("thing/3", "thing/9");
        let b = verify_jsonl(&mut text.as_bytes()).unwrap().broken.unwrap();
        assert_eq!(b.seq, 3);
    }
}
