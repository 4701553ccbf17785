//! AWS pricers, one file per resource family.

mod autoscaling;
mod ebs;
mod ec2;
mod eip;
mod eks;
mod elasticache;
mod kms;
mod lb;
mod nat;
mod rds;
mod s3;
mod secretsmanager;

use super::pricer::PriceFn;

/// The AWS kinds the catalog prices, and their pricers.
pub(crate) static PRICERS: &[(&str, PriceFn)] = &[
    ("aws_instance", ec2::instance),
    ("aws_autoscaling_group", autoscaling::group),
    ("aws_ebs_volume", ebs::volume),
    ("aws_db_instance", rds::instance),
    ("aws_nat_gateway", nat::gateway),
    ("aws_lb", lb::load_balancer),
    ("aws_alb", lb::load_balancer),
    ("aws_elb", lb::classic),
    ("aws_eks_cluster", eks::cluster),
    ("aws_eks_node_group", eks::node_group),
    ("aws_elasticache_cluster", elasticache::cluster),
    (
        "aws_elasticache_replication_group",
        elasticache::replication_group,
    ),
    ("aws_s3_bucket", s3::bucket),
    ("aws_eip", eip::address),
    ("aws_secretsmanager_secret", secretsmanager::secret),
    ("aws_kms_key", kms::key),
];
