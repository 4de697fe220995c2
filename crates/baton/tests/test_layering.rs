//! The crates' layering, read from `cargo metadata`: the core depends on no store and no front end, the stores
//! only on the core and the SQL they share (`baton-sql`, itself only on the core), and no front end on another
//! front end or on a store.

use std::process::Command;

use serde_json::Value;

/// The workspace crates each crate depends on to build (tests' own dependencies aside).
fn layers() -> Vec<(String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    m["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| n.starts_with("baton"))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().unwrap_or_default().to_string(), deps)
        })
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let layers = layers();
    let allowed = |name: &str| -> Option<&[&str]> {
        Some(match name {
            "baton-core" => &[],
            // What the SQL stores share beyond their dialects: nothing but the core below it.
            "baton-sql" => &["baton-core"],
            // A store depends on the core and the shared SQL part, never on another store.
            "baton-sqlite" | "baton-postgres" => &["baton-core", "baton-sql"],
            "baton-conformance" => &["baton-core"],
            "baton-hooks" | "baton-mcp" | "baton-docs" => &["baton-core"],
            "baton-bench" => &["baton-core", "baton-sqlite", "baton-postgres"],
            // The binary puts it all together.
            "baton" => return None,
            other => panic!("crate {other} has no place in the layering: add it here"),
        })
    };
    for (name, deps) in &layers {
        let Some(ok) = allowed(name) else { continue };
        for d in deps {
            assert!(
                ok.contains(&d.as_str()),
                "{name} depends on {d}; it may depend only on {ok:?}"
            );
        }
    }
    let names: Vec<&str> = layers.iter().map(|(n, _)| n.as_str()).collect();
    for must in [
        "baton",
        "baton-core",
        "baton-sql",
        "baton-sqlite",
        "baton-postgres",
        "baton-mcp",
        "baton-hooks",
    ] {
        assert!(names.contains(&must), "{must} is missing from the workspace: {names:?}");
    }
}
