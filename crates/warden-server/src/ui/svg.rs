//! Charts drawn on the server as SVG: no chart library, no script, styled by the
//! stylesheet's classes (the CSP allows no inline style).

use maud::{html, Markup};

/// One column of a stacked bar chart: its label and the counts of allow, warn,
/// require_approval and deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Axis label (shown for some columns when there are many).
    pub label: String,
    /// Counts in outcome order: allow, warn, require_approval, deny.
    pub counts: [u64; 4],
}

const CLASSES: [&str; 4] = ["bar-allow", "bar-warn", "bar-approval", "bar-deny"];

/// A stacked bar chart of outcomes over time.
#[must_use]
pub fn outcome_bars(columns: &[Column], title: &str) -> Markup {
    let (w, h) = (760.0_f64, 220.0_f64);
    let (left, bottom, top) = (36.0, 24.0, 8.0);
    let plot_h = h - bottom - top;
    let max = columns
        .iter()
        .map(|c| c.counts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max);
    let ceiling = max.div_ceil(step) * step;
    let n = columns.len().max(1);
    #[allow(
        clippy::cast_precision_loss,
        reason = "chart coordinates: counts far below 2^52"
    )]
    let (slot, scale) = ((w - left) / n as f64, plot_h / ceiling as f64);
    let bar = (slot * 0.7).max(1.0);
    let label_every = n.div_ceil(12).max(1);
    // (class, x, y, height, tooltip) of every segment; (x, label) of every shown label.
    let mut rects = Vec::new();
    let mut labels = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let x = left + slot * idx(i) + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        for (k, count) in c.counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let height = scaled(*count, scale);
            y -= height;
            rects.push((CLASSES[k], x, y, height, format!("{}: {count}", c.label)));
        }
        if i % label_every == 0 {
            labels.push((x + bar / 2.0, c.label.as_str()));
        }
    }
    html! {
        svg.chart viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(title) {
            title { (title) }
            @for i in 0..=ceiling / step {
                @let v = i * step;
                @let y = top + plot_h - scaled(v, scale);
                line.grid-line x1=(left) x2=(w) y1=(fmt(y)) y2=(fmt(y)) {}
                text.axis x=(left - 6.0) y=(fmt(y + 4.0)) text-anchor="end" { (v) }
            }
            @for (class, x, y, height, tip) in &rects {
                rect class=(class) x=(fmt(*x)) y=(fmt(*y)) width=(fmt(bar)) height=(fmt(*height)) rx="1.5" {
                    title { (tip) }
                }
            }
            @for (x, label) in &labels {
                text.axis x=(fmt(*x)) y=(fmt(h - 6.0)) text-anchor="middle" { (label) }
            }
        }
    }
}

/// A thin horizontal meter, `part` of `whole`.
#[must_use]
pub fn meter(part: u64, whole: u64) -> Markup {
    #[allow(
        clippy::cast_precision_loss,
        reason = "a share for drawing: counts far below 2^52"
    )]
    let share = if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    };
    html! {
        svg.meter viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" {
            rect.track width="100" height="8" rx="4" {}
            rect.fill width=(fmt(share * 100.0)) height="8" rx="4" {}
        }
    }
}

/// A meter of spending against a budget: red once over it (the bar then shows the budget
/// full).
#[must_use]
pub fn budget_meter(used: f64, budget: f64) -> Markup {
    let share = if budget > 0.0 {
        (used / budget).clamp(0.0, 1.0)
    } else if used > 0.0 {
        1.0
    } else {
        0.0
    };
    let over = used > budget;
    html! {
        svg.meter.over[over] viewBox="0 0 100 8" preserveAspectRatio="none" role="img"
            aria-label=(format!("{:.0}% of the budget", if budget > 0.0 { used * 100.0 / budget } else { 0.0 })) {
            rect.track width="100" height="8" rx="4" {}
            rect.fill width=(fmt(share * 100.0)) height="8" rx="4" {}
        }
    }
}

fn idx(i: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "chart column index: small")]
    let x = i as f64;
    x
}

fn scaled(v: u64, scale: f64) -> f64 {
    #[allow(
        clippy::cast_precision_loss,
        reason = "chart coordinates: counts far below 2^52"
    )]
    let x = v as f64 * scale;
    x
}

/// A step for the y axis giving at most about five grid lines.
fn nice_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max.div_ceil(step * m) <= 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_bars_are_drawn_per_outcome() {
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(23), 5);
        assert_eq!(nice_step(480), 100);
        let svg = outcome_bars(
            &[
                Column {
                    label: "a".into(),
                    counts: [2, 0, 1, 3],
                },
                Column {
                    label: "b".into(),
                    counts: [0, 0, 0, 0],
                },
            ],
            "t",
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("bar-deny") && svg.contains("bar-approval"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
        assert!(meter(1, 4).into_string().contains("width=\"25.0\""));
    }
}
