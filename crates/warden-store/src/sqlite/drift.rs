//! Drift scans and events on SQLite (see [`crate::drift`]): one `BEGIN IMMEDIATE`
//! transaction per scan, so scans of a target are recorded one after the other.

use sqlx::Row;
use time::OffsetDateTime;

use super::{append, space_settings_tx, SqliteStore};
use crate::drift::{
    bounds_ms, check_scan, check_series, drifted_count, event_from, limit_param, opened_event,
    plan, remediation_sql, resolved_event, scan_event, scan_from, scan_result, series_from,
    state_param, stats_from, to_text, touch_from, DriftDay, DriftEvent, DriftFilter, DriftScan,
    DriftScanResult, DriftStats, NewDriftScan, ResourceTouch, INSERT_EVENT, INSERT_SCAN,
    RESOLVE_EVENT, SELECT_EVENTS, SELECT_LAST_SCAN, SELECT_OPEN, SELECT_OPEN_COUNTS,
    SELECT_SCAN_COUNTS, SELECT_SCAN_EVENTS, SELECT_SERIES, SELECT_TOUCH, UPDATE_KEPT,
};
use crate::error::Result;
use crate::model::{to_millis, Actor};

/// Records the addresses a change touched, in its decision's transaction, unless a decision
/// in the space recorded the same change before (one index probe then): parameters from
/// `first`: space, change digest, JSON array.
pub(super) fn insert_resources_sql(first: usize) -> String {
    let [space, digest, list] = [first, first + 1, first + 2];
    format!(
        "INSERT INTO change_resources (space, input_digest, address)
         SELECT ${space}, ${digest}, value FROM json_each(${list})
         WHERE NOT EXISTS (SELECT 1 FROM change_resources
                           WHERE input_digest = ${digest} AND space IS ${space});"
    )
}

impl SqliteStore {
    pub(super) async fn drift_record(
        &self,
        actor: &Actor,
        scan: &NewDriftScan,
    ) -> Result<DriftScanResult> {
        check_scan(scan)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        space_settings_tx(&mut tx, &scan.space).await?;
        let open = sqlx::query(SELECT_OPEN)
            .bind(&scan.space)
            .bind(&scan.target)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(event_from)
            .collect::<Result<Vec<_>>>()?;
        let plan = plan(&open, scan);
        let scan_id: i64 = sqlx::query(INSERT_SCAN)
            .bind(&scan.space)
            .bind(&scan.target)
            .bind(&scan.source)
            .bind(&actor.principal)
            .bind(to_millis(scan.started_at))
            .bind(now)
            .bind(i64::try_from(scan.compared).unwrap_or(i64::MAX))
            .bind(drifted_count(scan))
            .bind(&scan.error)
            .bind(to_text(&scan.summary)?)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let mut opened = Vec::with_capacity(plan.open.len());
        for d in &plan.open {
            let id: i64 = sqlx::query(INSERT_EVENT)
                .bind(&scan.space)
                .bind(&scan.target)
                .bind(&d.address)
                .bind(&d.resource_kind)
                .bind(&d.status)
                .bind(to_text(&d.changes)?)
                .bind(to_text(&d.introduced)?)
                .bind(&d.severity)
                .bind(to_text(&d.attribution)?)
                .bind(to_text(&d.remediation)?)
                .bind(scan_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            opened.push(id);
        }
        for (e, d) in &plan.keep {
            sqlx::query(UPDATE_KEPT)
                .bind(&d.status)
                .bind(to_text(&d.changes)?)
                .bind(to_text(&d.introduced)?)
                .bind(&d.severity)
                .bind(to_text(&d.remediation)?)
                .bind(scan_id)
                .bind(now)
                .bind(e.id)
                .execute(&mut *tx)
                .await?;
        }
        for e in &plan.resolve {
            sqlx::query(RESOLVE_EVENT)
                .bind(scan_id)
                .bind(now)
                .bind(e.id)
                .execute(&mut *tx)
                .await?;
        }
        let resolved: Vec<i64> = plan.resolve.iter().map(|e| e.id).collect();
        let event = scan_event(scan_id, scan, &opened, plan.keep.len(), &resolved);
        append(&mut tx, now, actor, event).await?;
        for (id, d) in opened.iter().zip(&plan.open) {
            append(&mut tx, now, actor, opened_event(*id, scan_id, scan, d)).await?;
        }
        for e in &plan.resolve {
            append(&mut tx, now, actor, resolved_event(e, scan_id, now)).await?;
        }
        let row = sqlx::query("SELECT * FROM drift_scans WHERE id = $1")
            .bind(scan_id)
            .fetch_one(&mut *tx)
            .await?;
        let events = sqlx::query(SELECT_SCAN_EVENTS)
            .bind(scan_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(event_from)
            .collect::<Result<Vec<_>>>()?;
        let out = scan_result(scan_from(&row)?, events);
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn drift_last_scan(
        &self,
        space: &str,
        target: &str,
    ) -> Result<Option<DriftScan>> {
        sqlx::query(SELECT_LAST_SCAN)
            .bind(space)
            .bind(target)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(scan_from)
            .transpose()
    }

    pub(super) async fn drift_events_filtered(
        &self,
        filter: &DriftFilter,
    ) -> Result<Vec<DriftEvent>> {
        sqlx::query(SELECT_EVENTS)
            .bind(&filter.space)
            .bind(&filter.target)
            .bind(state_param(filter.state))
            .bind(limit_param(filter.limit))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(event_from)
            .collect()
    }

    pub(super) async fn drift_event_by_id(&self, id: i64) -> Result<Option<DriftEvent>> {
        sqlx::query("SELECT * FROM drift_events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(event_from)
            .transpose()
    }

    pub(super) async fn touches(
        &self,
        space: &str,
        addresses: &[String],
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<ResourceTouch>> {
        let since = since.map_or(i64::MIN, to_millis);
        let mut out = Vec::new();
        for address in addresses {
            if let Some(row) = sqlx::query(SELECT_TOUCH)
                .bind(space)
                .bind(address)
                .bind(since)
                .fetch_optional(&self.reader)
                .await?
            {
                out.push(touch_from(&row)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn drift_statistics(
        &self,
        window_since: OffsetDateTime,
        bounds_secs: &[f64],
    ) -> Result<DriftStats> {
        let scans = sqlx::query(SELECT_SCAN_COUNTS)
            .bind(to_millis(window_since))
            .fetch_all(&self.reader)
            .await?;
        let open = sqlx::query(SELECT_OPEN_COUNTS)
            .fetch_all(&self.reader)
            .await?;
        let sql = remediation_sql(bounds_secs.len());
        let mut query = sqlx::query(&sql);
        for b in bounds_ms(bounds_secs) {
            query = query.bind(b);
        }
        let remediation = query.fetch_one(&self.reader).await?;
        stats_from(&scans, &open, &remediation, bounds_secs.len())
    }

    pub(super) async fn drift_days(
        &self,
        since: OffsetDateTime,
        width_secs: i64,
    ) -> Result<Vec<DriftDay>> {
        let width_ms = check_series(width_secs)?;
        let rows = sqlx::query(SELECT_SERIES)
            .bind(to_millis(since))
            .bind(width_ms)
            .fetch_all(&self.reader)
            .await?;
        series_from(&rows, since, width_secs)
    }
}
