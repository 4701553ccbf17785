//! Masking secrets out of stored documents.
//!
//! The secret rule (in `warden-rules`) finds secrets; the store never depends on it. The
//! caller hands over the secret values it found and the store replaces every occurrence in
//! anything it stores (input documents, decision documents) before the write, so a caller
//! cannot store a secret by forgetting to mask it.

use std::borrow::Cow;

/// What a masked secret is replaced with.
pub const MASK: &str = "***MASKED***";

/// Secrets shorter than this are not masked: replacing a two-letter string everywhere would
/// destroy the document and protects nothing.
pub const MIN_SECRET_LEN: usize = 4;

/// Replaces every occurrence of each secret in `text` with [`MASK`]: the raw form, its
/// JSON-escaped form (a secret with quotes, backslashes or newlines inside a JSON string), and
/// each line of a multi-line secret (a private key in a YAML block scalar is indented line by
/// line). Returns the masked text (borrowed when nothing was masked) and how many
/// replacements were made.
#[must_use]
pub fn mask_text<'t>(text: &'t str, secrets: &[String]) -> (Cow<'t, str>, usize) {
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets {
        if secret.len() < MIN_SECRET_LEN {
            continue;
        }
        forms.push(secret.clone());
        if let Ok(quoted) = serde_json::to_string(secret) {
            let inner = quoted
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .unwrap_or(&quoted);
            if inner != secret {
                forms.push(inner.to_owned());
            }
        }
        if secret.contains('\n') {
            forms.extend(
                secret
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 8)
                    .map(str::to_owned),
            );
        }
    }
    // Longest first, so a line of a key is not masked before the whole key.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    // Nothing found, nothing copied: the common case (no secret in the change).
    let mut out = Cow::Borrowed(text);
    let mut count = 0;
    for form in &forms {
        let n = out.matches(form.as_str()).count();
        if n > 0 {
            count += n;
            out = Cow::Owned(out.replace(form.as_str(), MASK));
        }
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_raw_escaped_and_line_forms() {
        let secrets = vec!["Hunter2-prod".to_owned(), "a\"b\\c-secret".to_owned()];
        let text = r#"{"password":"Hunter2-prod","x":"a\"b\\c-secret","y":"Hunter2-prod"}"#;
        let (masked, n) = mask_text(text, &secrets);
        assert_eq!(n, 3);
        assert!(!masked.contains("Hunter2"));
        assert!(!masked.contains("c-secret"));

        let key =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\n-----END RSA PRIVATE KEY-----"
                .to_owned();
        let yaml = "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIEowIBAAKCAQEA1234\n  -----END RSA PRIVATE KEY-----\n";
        let (masked, _) = mask_text(yaml, &[key]);
        assert!(!masked.contains("MIIEowIBAAKCAQEA1234"), "{masked}");
    }

    #[test]
    fn short_secrets_are_left_alone() {
        let (masked, n) = mask_text("abc abc", &["ab".to_owned()]);
        assert_eq!((masked.as_ref(), n), ("abc abc", 0));
        assert!(
            matches!(masked, Cow::Borrowed(_)),
            "nothing masked, nothing copied"
        );
    }
}
