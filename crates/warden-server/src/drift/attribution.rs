//! Who made a drifted change, as far as Warden's own records tell.
//!
//! Every decision keeps the addresses of the resources its change creates, updates, replaces
//! or deletes (`change_resources`, written with the decision, once per space and change
//! digest; decisions find them by their digest). A drifted resource is
//! attributed to the newest decision in the same space that touched its address since the
//! target's last successful scan began (any time, for a target's first scan): through the
//! admission webhook when the decision was an admission review, else through the API. No
//! such decision: out of band, actor unknown. Attribution is made once, when the event
//! opens.

use std::collections::HashMap;

use serde_json::{json, Value};
use time::OffsetDateTime;
use warden_store::{ResourceTouch, Store, StoreError};

/// The attribution of a change no decision touched.
#[must_use]
pub fn out_of_band() -> Value {
    json!({
        "via": "out-of-band",
        "actor": null,
        "summary": "out of band, actor unknown",
    })
}

/// The attribution of a change a decision touched.
#[must_use]
pub fn from_touch(t: &ResourceTouch) -> Value {
    let via = if t
        .subject
        .as_deref()
        .is_some_and(|s| s.starts_with("admission:"))
    {
        "admission"
    } else {
        "warden-api"
    };
    let door = if via == "admission" {
        "the admission webhook"
    } else {
        "Warden's API"
    };
    json!({
        "via": via,
        "decision_id": t.decision_id,
        "actor": t.actor,
        "actor_kind": t.actor_kind,
        "at": rfc3339(t.at),
        "outcome": t.outcome,
        "summary": format!(
            "through {door}: decision {} by {} ({}), {}",
            t.decision_id, t.actor, t.actor_kind, t.outcome
        ),
    })
}

/// The attribution of each address, from the decisions of `space` made at or after `since`.
pub async fn attribute(
    store: &dyn Store,
    space: &str,
    addresses: &[String],
    since: Option<OffsetDateTime>,
) -> Result<HashMap<String, Value>, StoreError> {
    let touches = store.resource_touches(space, addresses, since).await?;
    let mut out: HashMap<String, Value> = addresses
        .iter()
        .map(|a| (a.clone(), out_of_band()))
        .collect();
    for t in &touches {
        out.insert(t.address.clone(), from_touch(t));
    }
    Ok(out)
}

/// RFC 3339, or the Unix time if the date cannot be formatted.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(subject: Option<&str>) -> ResourceTouch {
        ResourceTouch {
            address: "a".into(),
            decision_id: 7,
            actor: "alice".into(),
            actor_kind: "human".into(),
            outcome: "allow".into(),
            subject: subject.map(str::to_owned),
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_door_is_told_by_the_subject() {
        let api = from_touch(&touch(Some("resources:sha256:x")));
        assert_eq!(api["via"], "warden-api");
        assert_eq!(api["decision_id"], 7);
        assert_eq!(api["actor"], "alice");
        assert_eq!(api["at"], "1970-01-01T00:00:00Z");
        let admission = from_touch(&touch(Some("admission:Deployment/shop/web")));
        assert_eq!(admission["via"], "admission");
        assert!(admission["summary"]
            .as_str()
            .is_some_and(|s| s.contains("admission webhook")));
        let none = out_of_band();
        assert_eq!(none["via"], "out-of-band");
        assert!(none["actor"].is_null());
    }
}
