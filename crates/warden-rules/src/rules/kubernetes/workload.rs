//! Helpers of the restricted-profile and workload-hygiene rules: container image references
//! (registry, repository, tag, digest, as the container runtime resolves them), resource
//! quantities (`500m`, `128Mi`, `1e3`) and the pod's operating system.

use warden_core::{Resource, Value};

use super::pod::{containers, Container};

/// A parsed container image reference (`registry:5000/team/app:1.2@sha256:…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// The registry host (with port), `docker.io` when the reference names none.
    pub(crate) registry: String,
    /// The repository path, `library/<name>` for Docker Hub official images.
    pub(crate) repository: String,
    /// The tag, when written.
    pub(crate) tag: Option<String>,
    /// The digest (`sha256:…`), when written.
    pub(crate) digest: Option<String>,
}

impl ImageRef {
    /// Parses an image reference the way the container runtime does: the first path
    /// component is a registry host only when it contains `.` or `:` or is `localhost`, a tag
    /// is a `:` after the last `/`, and a digest follows `@`.
    #[must_use]
    pub(crate) fn parse(image: &str) -> ImageRef {
        let image = image.trim();
        let (name, digest) = match image.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_owned())),
            None => (image, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name.rfind(':').filter(|&i| i >= last_slash) {
            Some(i) => (
                name.get(..i).unwrap_or_default(),
                name.get(i + 1..).map(str::to_owned),
            ),
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_ascii_lowercase(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
            _ => registry,
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        ImageRef {
            registry,
            repository,
            tag: tag.filter(|t| !t.is_empty()),
            digest: digest.filter(|d| !d.is_empty()),
        }
    }

    /// `registry/repository`, without tag or digest (`docker.io/library/nginx`).
    #[must_use]
    pub(crate) fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The normalized full reference (`docker.io/library/nginx:1.27@sha256:…`).
    #[must_use]
    pub(crate) fn full(&self) -> String {
        let mut out = self.name();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// `true` when the image is pinned by a content digest (`@sha256:<hex>`), so the tag, if
    /// any, no longer decides what runs.
    #[must_use]
    pub(crate) fn pinned(&self) -> bool {
        self.digest.as_deref().is_some_and(|d| {
            d.split_once(':').is_some_and(|(algorithm, hex)| {
                !algorithm.is_empty()
                    && !hex.is_empty()
                    && hex.chars().all(|c| c.is_ascii_hexdigit())
            })
        })
    }
}

/// A container that names an image, with that image parsed.
#[derive(Debug, Clone)]
pub(crate) struct ContainerImage<'a> {
    /// The container.
    pub(crate) container: Container<'a>,
    /// Its `image`, as written.
    pub(crate) image: &'a str,
    /// The image reference, parsed.
    pub(crate) parsed: ImageRef,
}

/// Every container of a workload (regular, init, ephemeral) with a non-empty `image`, in
/// manifest order.
#[must_use]
pub(crate) fn container_images(resource: &Resource) -> Vec<ContainerImage<'_>> {
    containers(resource)
        .into_iter()
        .filter_map(|container| {
            let image = container
                .value
                .field("image")
                .as_str()
                .filter(|i| !i.is_empty())?;
            Some(ContainerImage {
                parsed: ImageRef::parse(image),
                image,
                container,
            })
        })
        .collect()
}

/// `*` matches any run of characters (including `/`), `?` one character (Warden's one glob
/// matcher; image references cannot contain `?`).
#[must_use]
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    warden_core::exceptions::glob_matches(pattern, text)
}

/// A resource quantity (`500m`, `1.5`, `128Mi`, `2G`, `1e3`, or a bare YAML number) in base
/// units (cores, bytes); `None` when it is not a quantity.
#[must_use]
pub(crate) fn quantity(value: &Value) -> Option<f64> {
    if let Some(n) = value.as_f64() {
        return Some(n);
    }
    let s = value.as_str()?.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent => {
            let digits = exponent
                .strip_prefix('e')
                .or_else(|| exponent.strip_prefix('E'))?;
            10f64.powi(digits.parse().ok()?)
        }
    };
    Some(number * factor)
}

/// `true` when a resources field is set to something (absent, `null` and `""` are unset).
#[must_use]
pub(crate) fn is_set(value: Option<&Value>) -> bool {
    value.is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

/// The value a fix gives a missing request or limit: `default`, unless the other side of the
/// pair is set and the default would put the request above the limit (which the API rejects);
/// then the other side's value.
#[must_use]
pub(crate) fn default_within(default: &str, other: Option<&Value>, is_request: bool) -> Value {
    let chosen = Value::from(default);
    let (Some(other), Some(mine)) = (other.filter(|v| is_set(Some(v))), quantity(&chosen)) else {
        return chosen;
    };
    match quantity(other) {
        Some(bound) if (is_request && mine > bound) || (!is_request && mine < bound) => {
            other.clone()
        }
        _ => chosen,
    }
}

/// `true` when the pod declares `spec.os.name: windows`: the restricted profile's Linux-only
/// controls (privilege escalation, seccomp, capabilities) do not apply to it.
#[must_use]
pub(crate) fn is_windows(pod_spec: &Value) -> bool {
    pod_spec.field("os").field("name").as_str() == Some("windows")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(image: &str) -> (String, String, Option<String>, Option<String>) {
        let r = ImageRef::parse(image);
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn image_references() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            parts("nginx"),
            ("docker.io".into(), "library/nginx".into(), None, None)
        );
        assert_eq!(
            parts("bitnami/redis:7.2"),
            ("docker.io".into(), "bitnami/redis".into(), s("7.2"), None)
        );
        assert_eq!(
            parts("registry:5000/app"),
            ("registry:5000".into(), "app".into(), None, None)
        );
        assert_eq!(
            parts("localhost/app:dev"),
            ("localhost".into(), "app".into(), s("dev"), None)
        );
        assert_eq!(
            parts("ghcr.io/acme/api:1.0@sha256:abc123"),
            (
                "ghcr.io".into(),
                "acme/api".into(),
                s("1.0"),
                s("sha256:abc123")
            )
        );
        assert_eq!(
            parts("repo@sha256:abc"),
            (
                "docker.io".into(),
                "library/repo".into(),
                None,
                s("sha256:abc")
            )
        );
        assert_eq!(
            ImageRef::parse("index.docker.io/nginx:1").name(),
            "docker.io/library/nginx"
        );
        assert!(ImageRef::parse("nginx@sha256:0a1b").pinned());
        assert!(!ImageRef::parse("nginx@latest").pinned());
        assert!(!ImageRef::parse("nginx:latest").pinned());
    }

    #[test]
    fn globs() {
        assert!(glob_match(
            "registry.example.com/*",
            "registry.example.com/a/b"
        ));
        assert!(!glob_match(
            "registry.example.com/*",
            "registry.example.com.evil.io/a"
        ));
        assert!(glob_match("ghcr.io/acme/*", "ghcr.io/acme/api"));
        assert!(!glob_match("ghcr.io/acme/*", "ghcr.io/other/api"));
        assert!(glob_match("*.azurecr.io/*", "team.azurecr.io/app"));
        assert!(glob_match(
            "docker.io/library/nginx",
            "docker.io/library/nginx"
        ));
        assert!(!glob_match(
            "docker.io/library/nginx",
            "docker.io/library/nginx2"
        ));
    }

    #[test]
    fn quantities() {
        let q = |s: &str| quantity(&Value::from(s));
        assert_eq!(q("500m"), Some(0.5));
        assert_eq!(q("2"), Some(2.0));
        assert_eq!(q("128Mi"), Some(134_217_728.0));
        assert_eq!(q("1G"), Some(1e9));
        assert_eq!(q("1e3"), Some(1000.0));
        assert_eq!(q("1E"), Some(1e18));
        assert_eq!(q("lots"), None);
        assert_eq!(quantity(&Value::from(3_i64)), Some(3.0));
    }

    #[test]
    fn fix_values_keep_requests_within_limits() {
        let v = Value::from;
        // A missing limit below the set request takes the request.
        assert_eq!(default_within("256Mi", Some(&v("1Gi")), false), v("1Gi"));
        assert_eq!(
            default_within("256Mi", Some(&v("128Mi")), false),
            v("256Mi")
        );
        // A missing request above the set limit takes the limit.
        assert_eq!(default_within("100m", Some(&v("50m")), true), v("50m"));
        assert_eq!(default_within("100m", Some(&v("2")), true), v("100m"));
        assert_eq!(default_within("100m", None, true), v("100m"));
        assert_eq!(default_within("100m", Some(&v("")), true), v("100m"));
    }
}
