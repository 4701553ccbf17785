//! ElastiCache: nodes per hour by node type (Redis OSS, Valkey and Memcached alike).

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_elasticache_cluster`: `num_cache_nodes` nodes.
pub(crate) fn cluster(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    if let Some(group) = s.str("replication_group_id")?.filter(|g| !g.is_empty()) {
        return Err(Unpriceable::new(format!(
            "a member of replication group `{group}`: its nodes are priced with the group"
        )));
    }
    let node_type = s.required_str("node_type")?;
    let nodes = s.number("num_cache_nodes")?.unwrap_or(1.0);
    nodes_of(cx, out, node_type, nodes)
}

/// `aws_elasticache_replication_group`: `num_cache_clusters` nodes, or `num_node_groups` ×
/// (`replicas_per_node_group` + 1) with cluster mode.
pub(crate) fn replication_group(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let node_type = s.required_str("node_type")?;
    let nodes = match (
        s.number("num_cache_clusters")?
            .or(s.number("number_cache_clusters")?),
        s.number("num_node_groups")?,
    ) {
        (_, Some(shards)) if shards > 0.0 => {
            shards * (s.number("replicas_per_node_group")?.unwrap_or(0.0) + 1.0)
        }
        (Some(n), _) => n,
        _ => {
            out.note("no node count: one node assumed");
            1.0
        }
    };
    nodes_of(cx, out, node_type, nodes)
}

fn nodes_of(
    cx: &Ctx<'_>,
    out: &mut Priced,
    node_type: &str,
    nodes: f64,
) -> Result<(), Unpriceable> {
    cx.hourly(
        out,
        format!("{nodes} × {node_type} node"),
        "aws.elasticache",
        node_type,
        nodes,
    )
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn clusters_and_replication_groups() {
        // 2 × cache.t3.micro: 2 × 730 × 0.017 = 24.82
        assert_eq!(
            monthly(
                "aws_elasticache_cluster",
                r#"{"node_type":"cache.t3.micro","num_cache_nodes":2,"engine":"memcached"}"#
            ),
            24.82
        );
        // 3 shards × (1 replica + 1) = 6 × cache.r6g.large: 6 × 730 × 0.206 = 902.28
        assert_eq!(
            monthly(
                "aws_elasticache_replication_group",
                r#"{"node_type":"cache.r6g.large","num_node_groups":3,"replicas_per_node_group":1}"#
            ),
            902.28
        );
        // 2 × cache.m5.large: 2 × 730 × 0.156 = 227.76
        assert_eq!(
            monthly(
                "aws_elasticache_replication_group",
                r#"{"node_type":"cache.m5.large","num_cache_clusters":2}"#
            ),
            227.76
        );
        assert!(unpriced(
            "aws_elasticache_cluster",
            r#"{"replication_group_id":"rg","node_type":"cache.t3.micro"}"#
        )
        .contains("replication group"));
    }
}
