//! Kubernetes quantities (`512Mi`, `1.5`, `250m`) and Go durations (`1h30m`) for Kyverno's
//! arithmetic functions (`add`, `subtract`, `multiply`, `divide`, `modulo`, `sum`).
//!
//! Quantities are held exactly as nano-units in an `i128`; durations as nanoseconds.

use serde_json::Value;

const NANO: i128 = 1_000_000_000;

/// How a quantity prints: `Ki`/`Mi` suffixes, `k`/`M`/`m` suffixes, or `e3` exponents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    BinarySi,
    DecimalSi,
    DecimalExponent,
}

/// A Kubernetes resource quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    /// The value times 10^9.
    pub nanos: i128,
    /// The suffix family of the original text.
    pub format: Format,
}

/// One arithmetic operand, classified as Kyverno does: a number, else a quantity, else a
/// duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Operand {
    Scalar(f64),
    Quantity(Quantity),
    Duration(i128),
}

/// Classifies a JSON value as an arithmetic operand.
pub(crate) fn operand(value: &Value) -> Option<Operand> {
    match value {
        Value::Number(n) => n.as_f64().map(Operand::Scalar),
        Value::String(s) => parse_quantity(s)
            .map(Operand::Quantity)
            .or_else(|| parse_duration(s).map(Operand::Duration)),
        _ => None,
    }
}

fn pow(base: i128, exp: u32) -> Option<i128> {
    base.checked_pow(exp)
}

/// Parses `<sign><digits>[.<digits>]<suffix>` where the suffix is binary (`Ki`..`Ei`),
/// decimal (`n u m k M G T P E`) or an exponent (`e3`, `E-2`).
pub(crate) fn parse_quantity(text: &str) -> Option<Quantity> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(end);
    let (negative, digits) = match number.as_bytes().first() {
        Some(b'-') => (true, &number[1..]),
        Some(b'+') => (false, &number[1..]),
        _ => (false, number),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
        || digits.len() > 30
    {
        return None;
    }
    let mantissa: i128 = format!("{whole}{fraction}").parse().ok()?;
    let scale = u32::try_from(fraction.len()).ok()?;
    let (multiplier, divisor, format) = suffix_factor(suffix)?;
    let numerator = mantissa.checked_mul(multiplier)?.checked_mul(NANO)?;
    let denominator = divisor.checked_mul(pow(10, scale)?)?;
    let nanos = ceil_div(numerator, denominator);
    Some(Quantity {
        nanos: if negative { -nanos } else { nanos },
        format,
    })
}

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && (a > 0) == (b > 0) {
        q + 1
    } else {
        q
    }
}

/// (multiplier, divisor, format) of a suffix.
fn suffix_factor(suffix: &str) -> Option<(i128, i128, Format)> {
    let binary = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if let Some(power) = binary.iter().position(|s| *s == suffix).filter(|p| *p > 0) {
        return Some((pow(1024, u32::try_from(power).ok()?)?, 1, Format::BinarySi));
    }
    let decimal = match suffix {
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "" => 0,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        _ => {
            let exponent: i32 = suffix.strip_prefix(['e', 'E'])?.parse().ok()?;
            return factor_of_exponent(exponent, Format::DecimalExponent);
        }
    };
    factor_of_exponent(decimal, Format::DecimalSi)
}

fn factor_of_exponent(exponent: i32, format: Format) -> Option<(i128, i128, Format)> {
    if exponent >= 0 {
        Some((pow(10, exponent.unsigned_abs())?, 1, format))
    } else {
        Some((1, pow(10, exponent.unsigned_abs())?, format))
    }
}

impl Quantity {
    /// The canonical text Kubernetes prints (`1536Mi`, `1500m`, `2k`).
    pub(crate) fn to_canonical(self) -> String {
        let integral = self.nanos % NANO == 0;
        if self.format == Format::BinarySi && integral && self.nanos.abs() >= 1024 * NANO {
            let value = self.nanos / NANO;
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
            for power in (1..suffixes.len()).rev() {
                let unit = 1024_i128.pow(u32::try_from(power).unwrap_or(0));
                if value % unit == 0 {
                    return format!("{}{}", value / unit, suffixes[power]);
                }
            }
            return value.to_string();
        }
        if self.nanos == 0 {
            return "0".to_owned();
        }
        let exponents = [18, 15, 12, 9, 6, 3, 0, -3, -6, -9];
        for exponent in exponents {
            let unit = 10_i128.pow(u32::try_from(exponent + 9).unwrap_or(0));
            if self.nanos % unit == 0 {
                return format!("{}{}", self.nanos / unit, self.suffix(exponent));
            }
        }
        format!("{}n", self.nanos)
    }

    fn suffix(self, exponent: i32) -> String {
        if self.format == Format::DecimalExponent {
            return if exponent == 0 {
                String::new()
            } else {
                format!("e{exponent}")
            };
        }
        match exponent {
            18 => "E",
            15 => "P",
            12 => "T",
            9 => "G",
            6 => "M",
            3 => "k",
            -3 => "m",
            -6 => "u",
            -9 => "n",
            _ => "",
        }
        .to_owned()
    }

    fn as_f64(self) -> f64 {
        // Precision loss is accepted: Kubernetes' AsApproximateFloat64 does the same.
        #[expect(
            clippy::cast_precision_loss,
            reason = "approximate float like Kubernetes"
        )]
        let value = self.nanos as f64 / 1e9;
        value
    }
}

/// Parses a Go duration (`1h30m`, `-1.5s`, `300ms`, `0`) into whole nanoseconds (the parser
/// patterns and conditions use, rounded as Go truncates float nanoseconds).
pub(crate) fn parse_duration(text: &str) -> Option<i128> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "Go truncates float nanoseconds too"
    )]
    crate::values::parse_duration(text).map(|nanos| nanos.round() as i128)
}

/// Formats nanoseconds like Go's `time.Duration.String()` (`1h30m0s`, `1.5s`, `300ms`).
pub(crate) fn format_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    if abs < 1_000 {
        return format!("{sign}{abs}ns");
    }
    if abs < 1_000_000 {
        return format!("{sign}{}µs", decimal(abs, 1_000));
    }
    if abs < 1_000_000_000 {
        return format!("{sign}{}ms", decimal(abs, 1_000_000));
    }
    let hours = abs / 3_600_000_000_000;
    let minutes = (abs / 60_000_000_000) % 60;
    let seconds = decimal(abs % 60_000_000_000, 1_000_000_000);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

/// `value / unit` as a decimal without trailing zeros.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let fraction = value % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// The result of an arithmetic function.
fn number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn mismatch(operator: &str) -> String {
    format!("JMESPath function '{operator}': types mismatch")
}

fn zero_division(operator: &str) -> String {
    format!("JMESPath function '{operator}': Zero divisor passed")
}

/// `add` (and `sum`): quantity+quantity, duration+duration, number+number.
pub(crate) fn add(a: Operand, b: Operand, operator: &str) -> Result<Value, String> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => Ok(number(x + y)),
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let format = if x.nanos == 0 { y.format } else { x.format };
            Ok(Value::String(
                Quantity {
                    nanos: x.nanos + y.nanos,
                    format,
                }
                .to_canonical(),
            ))
        }
        (Operand::Duration(x), Operand::Duration(y)) => Ok(Value::String(format_duration(x + y))),
        _ => Err(mismatch(operator)),
    }
}

/// `subtract`.
pub(crate) fn subtract(a: Operand, b: Operand) -> Result<Value, String> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => Ok(number(x - y)),
        (Operand::Quantity(x), Operand::Quantity(y)) => Ok(Value::String(
            Quantity {
                nanos: x.nanos - y.nanos,
                format: x.format,
            }
            .to_canonical(),
        )),
        (Operand::Duration(x), Operand::Duration(y)) => Ok(Value::String(format_duration(x - y))),
        _ => Err(mismatch("subtract")),
    }
}

/// `multiply`: numbers, or a quantity/duration times a number.
pub(crate) fn multiply(a: Operand, b: Operand) -> Result<Value, String> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => Ok(number(x * y)),
        (Operand::Quantity(q), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Quantity(q)) => {
            let factor = parse_quantity(&format!("{s}")).ok_or_else(|| mismatch("multiply"))?;
            let nanos = q
                .nanos
                .checked_mul(factor.nanos)
                .ok_or_else(|| mismatch("multiply"))?
                / NANO;
            Ok(Value::String(
                Quantity {
                    nanos,
                    format: q.format,
                }
                .to_canonical(),
            ))
        }
        (Operand::Duration(d), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Duration(d)) => {
            Ok(Value::String(format_duration(scale_duration(d, s))))
        }
        _ => Err(mismatch("multiply")),
    }
}

fn scale_duration(nanos: i128, factor: f64) -> i128 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "Go computes durations in float seconds here"
    )]
    let seconds = nanos as f64 / 1e9 * factor;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "Go truncates the float like this"
    )]
    let scaled = (seconds * 1e9) as i128;
    scaled
}

/// `divide`: quantity/quantity and duration/duration give numbers; quantity/number and
/// duration/number keep the unit.
pub(crate) fn divide(a: Operand, b: Operand) -> Result<Value, String> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => nonzero(y).map(|y| number(x / y)),
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            nonzero(y.as_f64()).map(|y| number(x.as_f64() / y))
        }
        (Operand::Quantity(q), Operand::Scalar(s)) => {
            nonzero(s)?;
            let divisor = parse_quantity(&format!("{s}")).ok_or_else(|| mismatch("divide"))?;
            let nanos = q
                .nanos
                .checked_mul(NANO)
                .ok_or_else(|| mismatch("divide"))?
                / divisor.nanos;
            Ok(Value::String(
                Quantity {
                    nanos,
                    format: q.format,
                }
                .to_canonical(),
            ))
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            #[expect(clippy::cast_precision_loss, reason = "Go divides float seconds")]
            let (x, y) = (x as f64, y as f64);
            nonzero(y).map(|y| number(x / y))
        }
        (Operand::Duration(d), Operand::Scalar(s)) => {
            nonzero(s).map(|s| Value::String(format_duration(scale_duration(d, 1.0 / s))))
        }
        _ => Err(mismatch("divide")),
    }
}

fn nonzero(value: f64) -> Result<f64, String> {
    if value == 0.0 {
        Err(zero_division("divide"))
    } else {
        Ok(value)
    }
}

/// `modulo`: integers only; quantity%quantity, duration%duration, number%number.
pub(crate) fn modulo(a: Operand, b: Operand) -> Result<Value, String> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            let (x, y) = (integer(x)?, integer(y)?);
            if y == 0 {
                return Err(zero_division("modulo"));
            }
            #[expect(clippy::cast_precision_loss, reason = "result is a JSON number")]
            let result = (x % y) as f64;
            Ok(number(result))
        }
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            if x.nanos % NANO != 0 || y.nanos % NANO != 0 {
                return Err(
                    "JMESPath function 'modulo': Non-integer argument(s) passed for modulo"
                        .to_owned(),
                );
            }
            if y.nanos == 0 {
                return Err(zero_division("modulo"));
            }
            let nanos = (x.nanos / NANO) % (y.nanos / NANO) * NANO;
            Ok(Value::String(
                Quantity {
                    nanos,
                    format: x.format,
                }
                .to_canonical(),
            ))
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            if y == 0 {
                return Err(zero_division("modulo"));
            }
            Ok(Value::String(format_duration(x % y)))
        }
        _ => Err(mismatch("modulo")),
    }
}

fn integer(value: f64) -> Result<i64, String> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked against the float right after"
    )]
    let int = value as i64;
    #[expect(clippy::cast_precision_loss, reason = "round-trip check")]
    let back = int as f64;
    if back == value {
        Ok(int)
    } else {
        Err("JMESPath function 'modulo': Non-integer argument(s) passed for modulo".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(value: Value) -> Operand {
        operand(&value).unwrap()
    }

    #[test]
    fn quantities_parse_and_print_canonically() {
        assert_eq!(parse_quantity("1Gi").unwrap().to_canonical(), "1Gi");
        assert_eq!(parse_quantity("1.5Gi").unwrap().to_canonical(), "1536Mi");
        assert_eq!(parse_quantity("1500m").unwrap().to_canonical(), "1500m");
        assert_eq!(parse_quantity("1000").unwrap().to_canonical(), "1k");
        assert_eq!(parse_quantity("0.5").unwrap().to_canonical(), "500m");
        assert_eq!(parse_quantity("1e3").unwrap().to_canonical(), "1e3");
        assert!(parse_quantity("1h").is_none());
        assert!(parse_quantity("abc").is_none());
    }

    #[test]
    fn durations_parse_and_print_like_go() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(format_duration(5_400_000_000_000), "1h30m0s");
        assert_eq!(format_duration(parse_duration("1.5s").unwrap()), "1.5s");
        assert_eq!(format_duration(parse_duration("300ms").unwrap()), "300ms");
        assert_eq!(format_duration(parse_duration("2m").unwrap()), "2m0s");
        assert_eq!(parse_duration("1x"), None);
    }

    // Examples from kyverno.io/docs/writing-policies/jmespath (arithmetic section).
    #[test]
    fn documented_arithmetic() {
        assert_eq!(
            add(op(json!("1Gi")), op(json!("512Mi")), "add").unwrap(),
            json!("1536Mi")
        );
        assert_eq!(add(op(json!(3)), op(json!(2)), "add").unwrap(), json!(5.0));
        assert_eq!(
            add(op(json!("1h")), op(json!("1h30s")), "add").unwrap(),
            json!("2h0m30s")
        );
        assert!(add(op(json!("1Gi")), op(json!(1)), "add").is_err());
        assert_eq!(
            subtract(op(json!("2Gi")), op(json!("512Mi"))).unwrap(),
            json!("1536Mi")
        );
        assert_eq!(
            multiply(op(json!("250m")), op(json!(4))).unwrap(),
            json!("1")
        );
        assert_eq!(
            multiply(op(json!("10s")), op(json!(3))).unwrap(),
            json!("30s")
        );
        assert_eq!(
            divide(op(json!("12Mi")), op(json!("2Mi"))).unwrap(),
            json!(6.0)
        );
        assert_eq!(
            divide(op(json!("12Mi")), op(json!(4))).unwrap(),
            json!("3Mi")
        );
        assert_eq!(
            divide(op(json!("1h")), op(json!("30m0s"))).unwrap(),
            json!(2.0)
        );
        assert!(divide(op(json!(1)), op(json!(0))).is_err());
        assert_eq!(modulo(op(json!(12)), op(json!(5))).unwrap(), json!(2.0));
        assert_eq!(
            modulo(op(json!("12Mi")), op(json!("5Mi"))).unwrap(),
            json!("2Mi")
        );
        assert_eq!(
            modulo(op(json!("13s")), op(json!("5s"))).unwrap(),
            json!("3s")
        );
    }
}
