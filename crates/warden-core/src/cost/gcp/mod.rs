//! Google Cloud pricers, one file per resource family.

mod compute;
mod disk;
mod gke;
mod sql;
mod storage;

use super::pricer::PriceFn;

/// The Google Cloud kinds the catalog prices, and their pricers.
pub(crate) static PRICERS: &[(&str, PriceFn)] = &[
    ("google_compute_instance", compute::instance),
    ("google_compute_disk", disk::disk),
    ("google_sql_database_instance", sql::instance),
    ("google_container_cluster", gke::cluster),
    ("google_container_node_pool", gke::node_pool),
    ("google_storage_bucket", storage::bucket),
];
