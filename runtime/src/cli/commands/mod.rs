//! One module per group of commands; each turns parsed arguments into library calls and
//! prints the outcome.

pub(crate) mod connect;
pub(crate) mod connection;
pub(crate) mod pairing;
pub(crate) mod rules;
pub(crate) mod status;
pub(crate) mod sync;
