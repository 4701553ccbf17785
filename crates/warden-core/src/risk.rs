//! The risk score every decision carries: 0–100, the sum of named factors (capped), each
//! with the points it adds and why. Factors come from the change (blast radius, stateful
//! resources, IAM and network exposure, cost delta, values unknown until apply, a
//! production space) and from who asks and when (an agent, its recent denials, a change
//! outside the change window): `warden_policy::risk` computes them and applies the
//! configured thresholds.

use serde::Serialize;

/// How risky a change is, factor by factor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// 0–100: the factors' points added up, capped at 100.
    pub score: u8,
    /// The band the score falls in.
    pub level: RiskLevel,
    /// What adds to the score, most points first.
    pub factors: Vec<RiskFactor>,
}

/// The band of a risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// 0–24.
    Low,
    /// 25–49.
    Medium,
    /// 50–74.
    High,
    /// 75–100.
    Critical,
}

impl RiskLevel {
    /// The band of `score`.
    #[must_use]
    pub fn of(score: u8) -> RiskLevel {
        match score {
            0..=24 => RiskLevel::Low,
            25..=49 => RiskLevel::Medium,
            50..=74 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

/// One reason a change is risky.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskFactor {
    /// Stable id (`blast_radius`, `stateful`, `exposure`, `cost`, `unknown_values`,
    /// `production`, `agent`, `recent_denials`, `change_window`).
    pub factor: String,
    /// Points it adds.
    pub points: u8,
    /// What was found, for a person.
    pub detail: String,
}

impl RiskFactor {
    /// A factor.
    #[must_use]
    pub fn new(factor: &str, points: u8, detail: impl Into<String>) -> RiskFactor {
        RiskFactor {
            factor: factor.to_owned(),
            points,
            detail: detail.into(),
        }
    }
}

impl Risk {
    /// The score of these factors (those adding no points are dropped).
    #[must_use]
    pub fn from_factors(mut factors: Vec<RiskFactor>) -> Risk {
        factors.retain(|f| f.points > 0);
        factors.sort_by(|a, b| {
            b.points
                .cmp(&a.points)
                .then_with(|| a.factor.cmp(&b.factor))
        });
        let sum: u32 = factors.iter().map(|f| u32::from(f.points)).sum();
        let score = u8::try_from(sum.min(100)).unwrap_or(100);
        Risk {
            score,
            level: RiskLevel::of(score),
            factors,
        }
    }

    /// The same risk with more factors (a factor already there is replaced).
    #[must_use]
    pub fn with(self, more: Vec<RiskFactor>) -> Risk {
        let mut factors = self.factors;
        for f in more {
            factors.retain(|g| g.factor != f.factor);
            factors.push(f);
        }
        Risk::from_factors(factors)
    }

    /// One line: `62/100 (high): blast radius +30 (…), …`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut out = format!("{}/100 ({})", self.score, self.level.as_str());
        if !self.factors.is_empty() {
            let parts: Vec<String> = self
                .factors
                .iter()
                .map(|f| {
                    format!(
                        "{} +{} ({})",
                        f.factor.replace('_', " "),
                        f.points,
                        f.detail
                    )
                })
                .collect();
            out.push_str(": ");
            out.push_str(&parts.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_add_up_capped_and_sorted() {
        let r = Risk::from_factors(vec![
            RiskFactor::new("cost", 10, "+$2,000.00 a month"),
            RiskFactor::new("blast_radius", 30, "3 destroyed"),
            RiskFactor::new("unknown_values", 0, "none"),
        ]);
        assert_eq!(r.score, 40);
        assert_eq!(r.level, RiskLevel::Medium);
        assert_eq!(r.factors.len(), 2, "zero-point factors are dropped");
        assert_eq!(r.factors[0].factor, "blast_radius");
        assert_eq!(
            r.summary(),
            "40/100 (medium): blast radius +30 (3 destroyed), cost +10 (+$2,000.00 a month)"
        );
        let r = r.with(vec![
            RiskFactor::new("agent", 40, "agent"),
            RiskFactor::new("cost", 50, "more"),
        ]);
        assert_eq!(r.score, 100, "capped");
        assert_eq!(r.level, RiskLevel::Critical);
        assert_eq!(r.factors.iter().filter(|f| f.factor == "cost").count(), 1);
        assert_eq!(Risk::from_factors(vec![]).summary(), "0/100 (low)");
    }
}
