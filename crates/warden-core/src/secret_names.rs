//! Attribute names that hold a secret (`password`, `client_secret`, `api_key`) as opposed to
//! names that only mention one (`secret_arn`, `password_length`): shared by the secret rule
//! and the drift report's masking, so both read a name the same way.

/// Words that make a name a secret's (compared case-insensitively).
const WORDS: &[&[u8]] = &[
    b"passw",
    b"passphrase",
    b"private_key",
    b"secret",
    b"token",
    b"api_key",
    b"apikey",
];

/// Suffixes of names that mention a secret without holding one (`secret_arn`), compared
/// case-insensitively.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_arn",
    "_arns",
    "_id",
    "_ids",
    "_name",
    "_names",
    "_url",
    "_uri",
    "_endpoint",
    "_length",
    "_version",
    "_type",
    "_policy",
    "_enabled",
    "_ttl",
    "_rotation",
    "_path",
    "_location",
    "_prefix",
    "_format",
    "_units",
    "_validity",
    "_expiration",
    "_duration",
    "_mode",
    "_strategy",
    "_source",
    "_ref",
    "_key_id",
    "_reference",
];

/// The camelCase forms Kubernetes uses (`secretName`, `secretKeyRef`), compared exactly.
const NOT_SECRET_CAMEL_SUFFIXES: &[&str] = &[
    "Arn",
    "Id",
    "Ids",
    "Name",
    "Names",
    "Ref",
    "Path",
    "Namespace",
    "Version",
    "Type",
    "Enabled",
    "Ttl",
    "Source",
];

/// How names are written where they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// snake_case only (Terraform attributes).
    Snake,
    /// snake_case or camelCase (Kubernetes objects as well): `privateKey` is a secret's
    /// name, `secretKeyRef` a reference's.
    SnakeOrCamel,
}

/// `true` when an attribute name mentions a secret (`password`, `passwd`, `passphrase`,
/// `secret`, `token`, `api_key`, `apikey`, `private_key`) and is not a reference to one
/// (`secret_arn`). Allocation-free: the secret rule asks it for every string attribute.
#[must_use]
pub fn looks_secret(name: &str, naming: Naming) -> bool {
    let bytes = name.as_bytes();
    let starts = |i: usize, word: &[u8]| {
        bytes
            .get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    // Only the words starting with this byte are compared at each position.
    let has_word = bytes.iter().enumerate().any(|(i, b)| {
        let b = b.to_ascii_lowercase();
        WORDS.iter().any(|w| w.first() == Some(&b) && starts(i, w))
            || (naming == Naming::SnakeOrCamel && b == b'p' && starts(i, b"privatekey"))
    });
    let ends_with_ignoring_case = |suffix: &str| {
        bytes.len() >= suffix.len()
            && bytes
                .get(bytes.len() - suffix.len()..)
                .is_some_and(|end| end.eq_ignore_ascii_case(suffix.as_bytes()))
    };
    has_word
        && !NOT_SECRET_SUFFIXES
            .iter()
            .any(|s| ends_with_ignoring_case(s))
        && !(naming == Naming::SnakeOrCamel
            && NOT_SECRET_CAMEL_SUFFIXES.iter().any(|s| name.ends_with(s)))
}

#[cfg(test)]
mod tests {
    use super::{looks_secret, Naming};

    #[test]
    fn snake_and_camel_names() {
        for name in ["master_password", "client_secret", "API_KEY", "auth_token"] {
            assert!(looks_secret(name, Naming::Snake), "{name}");
            assert!(looks_secret(name, Naming::SnakeOrCamel), "{name}");
        }
        for name in ["secret_arn", "password_length", "kms_key_id", "name"] {
            assert!(!looks_secret(name, Naming::Snake), "{name}");
        }
        assert!(looks_secret("apiKey", Naming::SnakeOrCamel));
        assert!(looks_secret("privateKey", Naming::SnakeOrCamel));
        assert!(!looks_secret("secretKeyRef", Naming::SnakeOrCamel));
        assert!(
            looks_secret("secretKeyRef", Naming::Snake),
            "camelCase counts only if asked"
        );
    }
}
