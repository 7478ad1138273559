//! The test kit of the end-to-end scenarios, one concern a module: fixtures on disk, the
//! simulated Jiras' REST client, the two-simulator world, node processes, paired nodes, free
//! ports, rich text, the polling wait, the comparison of the two sides and what a failing
//! check prints.

pub mod adf;
pub mod compare;
pub mod fixtures;
pub mod node_process;
pub mod pair;
pub mod ports;
pub mod rest;
pub mod story;
pub mod wait;
pub mod world;
