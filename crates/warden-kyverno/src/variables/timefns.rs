//! Kyverno's `time_*` JMESPath functions. Times are RFC 3339 strings; durations are Go
//! durations. `time_now`/`time_now_utc`/`time_since` with no end read the system clock (UTC).

use super::quantity::{format_duration, parse_duration};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 time.
pub(crate) fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("invalid RFC 3339 time `{text}`: {e}"))
}

/// Formats like Go's `time.RFC3339` (no fractional seconds, `Z` for UTC).
pub(crate) fn format_rfc3339(t: OffsetDateTime) -> String {
    let offset = t.offset();
    let zone = if offset.is_utc() {
        "Z".to_owned()
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn duration(text: &str) -> Result<i128, String> {
    parse_duration(text).ok_or_else(|| format!("invalid duration `{text}`"))
}

fn nanos_between(start: OffsetDateTime, end: OffsetDateTime) -> i128 {
    (end - start).whole_nanoseconds()
}

/// `time_now()`: the current time (UTC) in RFC 3339.
pub(crate) fn now() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// `time_utc(t)`.
pub(crate) fn utc(t: &str) -> Result<String, String> {
    Ok(format_rfc3339(parse_rfc3339(t)?.to_offset(UtcOffset::UTC)))
}

/// `time_add(t, duration)`.
pub(crate) fn add(t: &str, d: &str) -> Result<String, String> {
    let nanos = i64::try_from(duration(d)?).map_err(|_| format!("duration `{d}` out of range"))?;
    let result = parse_rfc3339(t)?
        .checked_add(time::Duration::nanoseconds(nanos))
        .ok_or_else(|| "time out of range".to_owned())?;
    Ok(format_rfc3339(result))
}

/// `time_diff(t1, t2)`: `t2 - t1` as a Go duration.
pub(crate) fn diff(t1: &str, t2: &str) -> Result<String, String> {
    Ok(format_duration(nanos_between(
        parse_rfc3339(t1)?,
        parse_rfc3339(t2)?,
    )))
}

/// `time_before(t1, t2)`.
pub(crate) fn before(t1: &str, t2: &str) -> Result<bool, String> {
    Ok(parse_rfc3339(t1)? < parse_rfc3339(t2)?)
}

/// `time_after(t1, t2)`.
pub(crate) fn after(t1: &str, t2: &str) -> Result<bool, String> {
    Ok(parse_rfc3339(t1)? > parse_rfc3339(t2)?)
}

/// `time_between(t, start, end)`: strictly after start and before end.
pub(crate) fn between(t: &str, start: &str, end: &str) -> Result<bool, String> {
    let t = parse_rfc3339(t)?;
    Ok(t > parse_rfc3339(start)? && t < parse_rfc3339(end)?)
}

/// `time_since(layout, start, end)`: `end - start`; an empty layout is RFC 3339, an empty end
/// is now.
pub(crate) fn since(layout: &str, start: &str, end: &str) -> Result<String, String> {
    let start = parse_layout(layout, start)?;
    let end = if end.is_empty() {
        OffsetDateTime::now_utc()
    } else {
        parse_layout(layout, end)?
    };
    Ok(format_duration(nanos_between(start, end)))
}

/// `time_truncate(t, duration)`: rounds down to a multiple of the duration since year 1
/// (as Go's `Time.Truncate`).
pub(crate) fn truncate(t: &str, d: &str) -> Result<String, String> {
    let step = duration(d)?;
    let t = parse_rfc3339(t)?;
    if step <= 0 {
        return Ok(format_rfc3339(t));
    }
    // Seconds from 0001-01-01 to 1970-01-01.
    const YEAR_ONE_TO_UNIX: i128 = 62_135_596_800 * 1_000_000_000;
    let absolute = t.unix_timestamp_nanos() + YEAR_ONE_TO_UNIX;
    let truncated = absolute - absolute.rem_euclid(step) - YEAR_ONE_TO_UNIX;
    let result = OffsetDateTime::from_unix_timestamp_nanos(truncated)
        .map_err(|e| e.to_string())?
        .to_offset(t.offset());
    Ok(format_rfc3339(result))
}

/// `time_to_cron(t)`: `minute hour day month weekday`.
pub(crate) fn to_cron(t: &str) -> Result<String, String> {
    let t = parse_rfc3339(t)?;
    Ok(format!(
        "{} {} {} {} {}",
        t.minute(),
        t.hour(),
        t.day(),
        u8::from(t.month()),
        t.weekday().number_days_from_sunday()
    ))
}

/// `time_parse(layout, value)`: parses with a Go layout, returns RFC 3339.
pub(crate) fn parse(layout: &str, value: &str) -> Result<String, String> {
    Ok(format_rfc3339(parse_layout(layout, value)?))
}

/// Parses `value` with a Go layout (`2006-01-02T15:04:05Z07:00` ...). An empty layout or
/// RFC 3339's layout means RFC 3339; other layouts support the numeric tokens, `Jan`,
/// `Mon`, `PM`, `Z07:00`, `-07:00`, `-0700` and fractional seconds.
fn parse_layout(layout: &str, value: &str) -> Result<OffsetDateTime, String> {
    if layout.is_empty() || layout == "2006-01-02T15:04:05Z07:00" {
        return parse_rfc3339(value);
    }
    let description = go_layout_to_description(layout)?;
    let items = time::format_description::parse_borrowed::<2>(&description)
        .map_err(|e| format!("unsupported layout `{layout}`: {e}"))?;
    if let Ok(t) = OffsetDateTime::parse(value, &items) {
        return Ok(t);
    }
    if let Ok(t) = time::PrimitiveDateTime::parse(value, &items) {
        return Ok(t.assume_utc());
    }
    time::Date::parse(value, &items)
        .map(|d| d.midnight().assume_utc())
        .map_err(|e| format!("cannot parse `{value}` with layout `{layout}`: {e}"))
}

fn go_layout_to_description(layout: &str) -> Result<String, String> {
    const TOKENS: &[(&str, &str)] = &[
        ("January", "[month repr:long]"),
        ("Monday", "[weekday]"),
        (
            "Z07:00",
            "[optional [Z]][optional [offset_hour sign:mandatory]:[offset_minute]]",
        ),
        ("-07:00", "[offset_hour sign:mandatory]:[offset_minute]"),
        ("-0700", "[offset_hour sign:mandatory][offset_minute]"),
        (".000000000", ".[subsecond digits:9]"),
        (".999999999", "[optional [.[subsecond]]]"),
        (".000000", ".[subsecond digits:6]"),
        (".000", ".[subsecond digits:3]"),
        ("2006", "[year]"),
        ("Jan", "[month repr:short]"),
        ("Mon", "[weekday repr:short]"),
        ("MST", ""),
        ("01", "[month]"),
        ("02", "[day]"),
        ("15", "[hour]"),
        ("03", "[hour repr:12]"),
        ("04", "[minute]"),
        ("05", "[second]"),
        ("PM", "[period]"),
        ("06", "[year repr:last_two]"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (token, replacement) in TOKENS {
            if let Some(tail) = rest.strip_prefix(token) {
                if *token == "MST" {
                    return Err(format!("unsupported layout `{layout}`: time zone names"));
                }
                out.push_str(replacement);
                rest = tail;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            if c == '[' {
                out.push_str("[[");
            } else {
                out.push(c);
            }
        }
        rest = chars.as_str();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Examples from kyverno.io/docs/writing-policies/jmespath (time functions).
    #[test]
    fn documented_time_functions() {
        assert_eq!(
            add("2023-01-12T12:37:56Z", "3h").unwrap(),
            "2023-01-12T15:37:56Z"
        );
        assert_eq!(
            diff("2023-01-10T00:00:00Z", "2023-01-11T00:00:00Z").unwrap(),
            "24h0m0s"
        );
        assert!(before("2023-01-10T00:00:00Z", "2023-01-11T00:00:00Z").unwrap());
        assert!(!after("2023-01-10T00:00:00Z", "2023-01-11T00:00:00Z").unwrap());
        assert!(between(
            "2023-01-12T00:00:00Z",
            "2023-01-11T00:00:00Z",
            "2023-01-13T00:00:00Z"
        )
        .unwrap());
        assert_eq!(
            utc("2021-01-02T18:04:05-05:00").unwrap(),
            "2021-01-02T23:04:05Z"
        );
        assert_eq!(to_cron("2023-02-02T15:04:05Z").unwrap(), "4 15 2 2 4");
        assert_eq!(
            truncate("2023-02-02T15:04:05Z", "1h").unwrap(),
            "2023-02-02T15:00:00Z"
        );
        assert_eq!(
            since("", "2021-01-02T15:04:05Z", "2021-01-10T03:14:05Z").unwrap(),
            "180h10m0s"
        );
        assert_eq!(
            parse("2006-01-02", "2021-11-07").unwrap(),
            "2021-11-07T00:00:00Z"
        );
        assert_eq!(
            parse(
                "Mon Jan 02 2006 15:04:05 -0700",
                "Sat Jan 02 2021 15:04:05 -0700"
            )
            .unwrap(),
            "2021-01-02T15:04:05-07:00"
        );
        assert!(add("not a time", "1h").is_err());
    }
}
