//! Write Twinsync rules in Rust.
//!
//! A rule is a WebAssembly component that one side of a connection runs on
//! every sync event: `outgoing` turns a local issue into the replica that may
//! leave this side, and `incoming` turns a replica from the other side into
//! the desired state ([`Changes`](types::Changes)) of the local twin. This
//! crate holds the bindings for the `twinsync:rules` WIT world and the
//! helpers that keep a useful rule short:
//!
//! - [`basic::outgoing`] and [`basic::incoming`] are the stock `basic` rule, to start
//!   from and change one thing;
//! - [`replica_from`] and [`changes_from`] copy every field; [`ReplicaExt`] and
//!   [`ChangesExt`] then keep or drop fields by [`Field`];
//! - [`config`], [`require_config`], [`config_list`] and [`map_value`] read the
//!   connection side's settings, so one module can serve many connections;
//! - [`log`] writes to the node's log;
//! - [`testing`] runs a rule natively under `cargo test`, with a config map
//!   and captured log lines instead of the host.
//!
//! # Example
//!
//! A rule that sends everything but the assignee, and on the incoming side
//! takes summary, status and comments, mapping status names through config:
//!
//! ```
//! use twinsync_sdk::prelude::*;
//!
//! struct MyRule;
//!
//! impl Rule for MyRule {
//!     fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
//!         Ok(replica_from(&issue).without(&[Field::Assignee]))
//!     }
//!     fn incoming(replica: Replica, _local: Option<Issue>, ctx: SyncContext) -> Result<Changes, RuleError> {
//!         let mut changes = changes_from(&replica).only(&[Field::Summary, Field::Status, Field::Comments]);
//!         changes.status = map_option("status", replica.status.as_deref())?;
//!         changes.project = local_project(&ctx)?;
//!         Ok(changes)
//!     }
//! }
//!
//! twinsync_sdk::export_rule!(MyRule);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the
//! `.wasm` file in `target/wasm32-wasip2/release/` is the component a node loads.
//! The rule crate needs `crate-type = ["cdylib", "rlib"]`: `cdylib` makes the
//! component, `rlib` lets `cargo test` link the rule natively.

// Lets the generated bindings name this crate by the same path from inside it
// as from a rule crate that expands `export_rule!`.
extern crate self as twinsync_sdk;

#[cfg(feature = "author")]
pub mod author;
pub mod basic;
mod changes;
mod config;
mod field;
mod host;
pub mod log;
mod replica;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

/// The bindings `wit-bindgen` generates for the `rule` world of
/// `twinsync:rules@0.2.0`. Rule authors use [`types`], [`Rule`] and
/// [`export_rule!`] instead; this module is public because `export_rule!`
/// expands to paths inside it.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "rule",
        path: "../../wit",
        // Rule crates expand the export macro, so it must be reachable from them.
        pub_export_macro: true,
        export_macro_name: "__export_rule_world",
        default_bindings_module: "::twinsync_sdk::bindings",
        // Rule crates depend on this crate only, not on wit-bindgen itself.
        runtime_path: "::twinsync_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

/// Not public API: what the code `export_rule!` expands to needs.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

/// The WIT types of `twinsync:rules/types`, plus the host's log [`Level`](types::Level).
pub mod types {
    pub use crate::bindings::twinsync::rules::host::Level;
    pub use crate::bindings::twinsync::rules::types::*;
}

/// Everything a rule usually needs: `use twinsync_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::types::*;
    pub use crate::{
        ChangesExt, Field, ReplicaExt, Rule, RuleResult, Unmapped, changes_from, config,
        config_flag, config_list, config_or, fail, local_project, map_option, map_value,
        replica_from, require_config, rich_text, skip, user_ref,
    };
}

/// The trait a rule implements: `outgoing` (local issue -> replica) and
/// `incoming` (replica + local twin -> desired local state).
pub use bindings::Guest as Rule;

pub use changes::{ChangesExt, changes_from, user_ref};
pub use config::{
    Unmapped, config, config_flag, config_list, config_or, local_project, map_option, map_value,
    require_config,
};
pub use field::Field;
pub use replica::{ReplicaExt, replica_from};

use types::{RichText, RuleError};

/// What `outgoing` and `incoming` return.
pub type RuleResult<T> = Result<T, RuleError>;

/// `RuleError::Skip`: this change does not sync, and that is not an error.
pub fn skip(reason: impl Into<String>) -> RuleError {
    RuleError::Skip(reason.into())
}

/// `RuleError::Fail`: an error the admin must see; the issue's queue waits for a retry.
pub fn fail(reason: impl Into<String>) -> RuleError {
    RuleError::Fail(reason.into())
}

/// Plain rich text: `text` set, no ADF and no wiki markup.
pub fn rich_text(text: impl Into<String>) -> RichText {
    RichText {
        text: text.into(),
        adf: None,
        wiki: None,
    }
}

/// Exports a type implementing [`Rule`] as the component's `outgoing` and
/// `incoming` functions. Use it once per rule crate, at the crate root:
/// `twinsync_sdk::export_rule!(MyRule);`.
///
/// It expands to the exports only when compiling for `wasm32`, so the same
/// crate links natively for `cargo test` without clashing symbols.
#[macro_export]
macro_rules! export_rule {
    ($rule:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_rule_world!($rule with_types_in $crate::bindings);
    };
}
