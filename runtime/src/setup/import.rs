//! Taking the TOML's instances, connections and triggers into the store at start.
//!
//! The file owns what it declares: a new entry is added, an entry whose text changed
//! replaces the stored one, and an entry gone from the file is removed. An entry the file
//! still declares unchanged keeps the edits the page made to it.

use std::path::{Path, PathBuf};

use super::{SetupError, hash_of, put};
use crate::config::{ConnectionConfig, InstanceConfig, NodeConfig, SecretRef, TriggerConfig};
use crate::store::{SetupKind, SetupOrigin, Store};

/// Takes `config`'s declarations into `store` (see the module's doc).
pub(crate) fn import(store: &Store, config: &NodeConfig) -> Result<(), SetupError> {
    let base = &config.base_dir;
    for (name, inst) in &config.instances {
        let inst = absolute_instance(inst, base);
        take(store, SetupKind::Instance, name, &inst)?;
    }
    for conn in &config.connections {
        let mut conn = absolute_connection(conn, base);
        let mut triggers = Vec::new();
        for side in &mut conn.sides {
            let mut list = std::mem::take(&mut side.triggers);
            if let Some(jql) = side.trigger.take() {
                list.insert(
                    0,
                    TriggerConfig {
                        jql,
                        note: String::new(),
                        active: true,
                    },
                );
            }
            triggers.push((side.name.clone(), list));
        }
        take(store, SetupKind::Connection, &conn.name, &conn)?;
        for (side, list) in triggers {
            take_triggers(store, &conn.name, &side, &list)?;
        }
    }
    forget_removed(store, SetupKind::Instance, |n| {
        config.instances.contains_key(n)
    })?;
    forget_removed(store, SetupKind::Connection, |n| {
        config.connections.iter().any(|c| c.name == n)
    })?;
    Ok(())
}

/// Adds or replaces one declaration, unless the file's entry is unchanged since last taken.
fn take(
    store: &Store,
    kind: SetupKind,
    name: &str,
    body: &impl serde::Serialize,
) -> Result<(), SetupError> {
    let hash = hash_of(body);
    let stored = store.setup_row(kind, name)?;
    let unchanged = stored.as_ref().is_some_and(|r| {
        r.origin == SetupOrigin::Config && r.config_hash.as_deref() == Some(&hash)
    });
    if unchanged {
        return Ok(());
    }
    if stored.is_some() {
        tracing::info!(
            kind = kind.as_str(),
            name,
            "the config file's entry changed; it replaces the stored one"
        );
    }
    put(store, kind, name, body, SetupOrigin::Config, Some(hash))
}

/// A side's triggers from the file: kept while the file says the same, replaced when not.
fn take_triggers(
    store: &Store,
    connection: &str,
    side: &str,
    list: &[TriggerConfig],
) -> Result<(), SetupError> {
    let hash = hash_of(&list);
    let from_file: Vec<_> = store
        .triggers(Some(connection))?
        .into_iter()
        .filter(|t| t.side == side && t.origin == SetupOrigin::Config)
        .collect();
    if !from_file.is_empty()
        && from_file
            .iter()
            .all(|t| t.config_hash.as_deref() == Some(&hash))
    {
        return Ok(());
    }
    for t in &from_file {
        store.remove_trigger(t.id)?;
    }
    for t in list {
        store.add_trigger(&crate::store::NewTrigger {
            connection,
            side,
            jql: &t.jql,
            note: &t.note,
            active: t.active,
            origin: SetupOrigin::Config,
            config_hash: Some(&hash),
        })?;
    }
    Ok(())
}

/// Removes what the file declared before and declares no more.
fn forget_removed(
    store: &Store,
    kind: SetupKind,
    declared: impl Fn(&str) -> bool,
) -> Result<(), SetupError> {
    for row in store.setup_rows(kind)? {
        if row.origin == SetupOrigin::Config && !declared(&row.name) {
            tracing::info!(kind = kind.as_str(), name = %row.name, "no longer in the config file; removed");
            store.remove_setup_row(kind, &row.name)?;
        }
    }
    Ok(())
}

fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = base.join(p);
    std::path::absolute(&joined).unwrap_or(joined)
}

fn absolute_secret(secret: &SecretRef, base: &Path) -> SecretRef {
    match secret {
        SecretRef::File(p) => SecretRef::File(absolute(base, p)),
        other => other.clone(),
    }
}

fn absolute_instance(inst: &InstanceConfig, base: &Path) -> InstanceConfig {
    let mut inst = inst.clone();
    inst.token = absolute_secret(&inst.token, base);
    inst.webhook_secret = inst
        .webhook_secret
        .as_ref()
        .map(|s| absolute_secret(s, base));
    inst
}

fn absolute_connection(conn: &ConnectionConfig, base: &Path) -> ConnectionConfig {
    let mut conn = conn.clone();
    for side in &mut conn.sides {
        side.rule = side.rule.as_ref().map(|r| absolute(base, r));
    }
    conn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Stored;

    fn config(text: &str) -> NodeConfig {
        NodeConfig::parse(text, Path::new("t.toml"), PathBuf::from("/etc/ts")).expect("config")
    }

    const ONE: &str = r#"
        [instances.a]
        url = "http://127.0.0.1:1"
        flavour = "cloud"
        user = "u@example.com"
        token = { file = "a.token" }
        [instances.b]
        url = "http://127.0.0.1:2"
        flavour = "dc"
        token = { env = "B_TOKEN" }
        [[connection]]
        name = "c"
        [[connection.side]]
        name = "a"
        instance = "a"
        project = "A"
        rule = "rules/a.wasm"
        trigger = "project = A"
        [[connection.side]]
        name = "b"
        instance = "b"
        project = "B"
        mode = "basic"
    "#;

    #[test]
    fn the_file_is_taken_in_with_absolute_paths_and_its_trigger() {
        let store = Store::in_memory().expect("store");
        import(&store, &config(ONE)).expect("import");
        let stored = Stored::read(&store).expect("read");
        let (a, origin) = &stored.instances["a"];
        assert_eq!(*origin, SetupOrigin::Config);
        assert_eq!(a.token, SecretRef::File(PathBuf::from("/etc/ts/a.token")));
        let (c, _) = &stored.connections["c"];
        assert_eq!(c.sides[0].rule, Some(PathBuf::from("/etc/ts/rules/a.wasm")));
        assert_eq!(c.sides[0].trigger, None, "triggers live in their own table");
        assert_eq!(stored.triggers.len(), 1);
        assert_eq!(stored.triggers[0].jql, "project = A");
    }

    #[test]
    fn page_edits_stand_until_the_files_entry_changes_and_removed_entries_go() {
        let store = Store::in_memory().expect("store");
        import(&store, &config(ONE)).expect("import");
        let id = store.triggers(None).expect("list")[0].id;
        store
            .edit_trigger(
                id,
                &crate::store::TriggerEdit {
                    jql: Some("project = A AND labels = x".into()),
                    ..Default::default()
                },
            )
            .expect("edit");
        import(&store, &config(ONE)).expect("import again");
        let t = store.triggers(None).expect("list");
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].jql, "project = A AND labels = x",
            "the page's edit stands"
        );
        let changed = ONE.replace(
            "trigger = \"project = A\"",
            "trigger = \"project = A AND x = 1\"",
        );
        import(&store, &config(&changed)).expect("import changed");
        let t = store.triggers(None).expect("list");
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].jql, "project = A AND x = 1",
            "the file's new entry wins"
        );
        let without = changed
            .split("[[connection]]")
            .next()
            .expect("head")
            .to_string();
        import(&store, &config(&without)).expect("import without the connection");
        assert!(Stored::read(&store).expect("read").connections.is_empty());
        assert!(store.triggers(None).expect("list").is_empty());
    }
}
