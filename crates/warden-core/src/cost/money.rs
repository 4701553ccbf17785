//! Amounts as people read them: `$1,234.56`, `+$12.00`, `-$3.50`.

/// Rounds to the cent (and turns `-0.0` into `0.0`).
#[must_use]
pub fn round_cents(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// `$1,234.56` (`-$1,234.56` when negative).
#[must_use]
pub fn usd(x: f64) -> String {
    let cents = (round_cents(x) * 100.0).round();
    let negative = cents < 0.0;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a monthly amount in cents fits u64 by many orders of magnitude"
    )]
    let cents = cents.abs() as u64;
    let (dollars, cents) = (cents / 100, cents % 100);
    let digits = dollars.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{cents:02}", if negative { "-" } else { "" })
}

/// A unit price with the precision it was published with: `$0.023`, `$0.10`.
#[must_use]
pub fn unit_usd(x: f64) -> String {
    let text = format!("{x:.6}");
    let text = text.trim_end_matches('0');
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    format!("${text}{}", "0".repeat(2usize.saturating_sub(decimals)))
}

/// `+$12.00`, `-$3.50`, `$0.00`: a change.
#[must_use]
pub fn signed_usd(x: f64) -> String {
    let x = round_cents(x);
    if x > 0.0 {
        format!("+{}", usd(x))
    } else {
        usd(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_like_money() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(7.592), "$7.59");
        assert_eq!(usd(1234567.891), "$1,234,567.89");
        assert_eq!(usd(-12.5), "-$12.50");
        assert_eq!(usd(999.999), "$1,000.00");
        assert_eq!(signed_usd(12.0), "+$12.00");
        assert_eq!(signed_usd(-0.001), "$0.00");
        assert_eq!(signed_usd(-3.5), "-$3.50");
        assert_eq!(round_cents(0.1 + 0.2), 0.3);
        assert_eq!(unit_usd(0.023), "$0.023");
        assert_eq!(unit_usd(0.1), "$0.10");
        assert_eq!(unit_usd(1.0), "$1.00");
    }
}
