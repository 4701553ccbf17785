//! Persistent disks: capacity per GB-month by type.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// The disk type when none is given (the Compute Engine API's default).
pub(crate) const DEFAULT_TYPE: &str = "pd-standard";

/// `google_compute_disk`.
pub(crate) fn disk(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let Some(size) = s.number("size")? else {
        return Err(Unpriceable::new(
            if s.str("image")?.is_some() || s.str("snapshot")?.is_some() {
                "no `size`: it comes from the image or snapshot"
            } else {
                "no `size`"
            },
        ));
    };
    let kind = s.str("type")?.unwrap_or(DEFAULT_TYPE);
    storage(cx, out, "disk", kind, size)
}

/// `size` GB of disk `kind` (`pd-ssd`, or a URL ending in it).
pub(crate) fn storage(
    cx: &Ctx<'_>,
    out: &mut Priced,
    name: &str,
    kind: &str,
    size: f64,
) -> Result<(), Unpriceable> {
    let kind = kind.rsplit('/').next().unwrap_or(kind);
    cx.monthly(
        out,
        format!("{name}: {kind}"),
        "GB-month",
        "gcp.disk",
        kind,
        size,
    )
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn disks_by_type() {
        // pd-ssd 100 GB × 0.17 = 17.00
        assert_eq!(
            monthly(
                "google_compute_disk",
                r#"{"size":100,"type":"pd-ssd","zone":"us-central1-a"}"#
            ),
            17.0
        );
        // pd-standard (default) 500 GB in asia-southeast1 × 0.048 = 24.00
        assert_eq!(
            monthly(
                "google_compute_disk",
                r#"{"size":500,"zone":"asia-southeast1-b"}"#
            ),
            24.0
        );
        assert!(unpriced("google_compute_disk", r#"{"image":"debian-12"}"#).contains("image"));
    }
}
