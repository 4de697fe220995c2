//! The rows of interfaces and dependencies.

use baton_core::Result;
use baton_core::model::{Dependency, Interface};
use baton_core::store::{DependencyQuery, InterfaceQuery};

use crate::filter::{Filter, Placeholder};
use crate::row::{Cells, Columns, Value};

/// The columns of `interfaces`, in the order the stores read and insert them.
pub const INTERFACE_COLS: &str = "id, project, session_id, agent, name, file, description, created_at, updated_at";
/// The columns of `interfaces` an update may change.
pub const INTERFACE_SET: &str = "file, description, updated_at";
/// The columns of `dependencies`, in the order the stores read and insert them.
pub const DEPENDENCY_COLS: &str = "id, project, session_id, agent, name, from_addr, created_at";

/// An interface from a row of [`INTERFACE_COLS`].
pub fn interface(row: &dyn Columns) -> Result<Interface> {
    let c = Cells(row);
    Ok(Interface {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        session_id: c.text(2)?.into(),
        agent: c.text(3)?,
        name: c.text(4)?,
        file: c.opt_text(5)?,
        description: c.opt_text(6)?,
        created_at: c.time(7)?,
        updated_at: c.time(8)?,
    })
}

/// An interface's cells in the order of [`INTERFACE_COLS`].
pub fn interface_values(i: &Interface) -> Vec<Value> {
    vec![
        i.id.as_str().into(),
        i.project.as_str().into(),
        i.session_id.as_str().into(),
        i.agent.as_str().into(),
        i.name.as_str().into(),
        i.file.clone().into(),
        i.description.clone().into(),
        i.created_at.into(),
        i.updated_at.into(),
    ]
}

/// A dependency from a row of [`DEPENDENCY_COLS`].
pub fn dependency(row: &dyn Columns) -> Result<Dependency> {
    let c = Cells(row);
    Ok(Dependency {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        session_id: c.text(2)?.into(),
        agent: c.text(3)?,
        name: c.text(4)?,
        from: c.parse(5)?,
        created_at: c.time(6)?,
    })
}

/// A dependency's cells in the order of [`DEPENDENCY_COLS`].
pub fn dependency_values(d: &Dependency) -> Vec<Value> {
    vec![
        d.id.as_str().into(),
        d.project.as_str().into(),
        d.session_id.as_str().into(),
        d.agent.as_str().into(),
        d.name.as_str().into(),
        d.from.as_stored().into(),
        d.created_at.into(),
    ]
}

/// The statement that updates an interface.
pub fn update_interface_sql(style: Placeholder) -> String {
    crate::update_sql(style, "interfaces", INTERFACE_SET, "id")
}

/// The parameters of [`update_interface_sql`].
pub fn update_interface_values(i: &Interface) -> Vec<Value> {
    crate::update_values(INTERFACE_COLS, interface_values(i), INTERFACE_SET, "id")
}

/// The statement behind `interfaces`.
pub fn interfaces_sql(style: Placeholder, q: &InterfaceQuery) -> (String, Filter) {
    let mut f = Filter::new(style);
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    if let Some(v) = &q.session_id {
        f.eq("session_id", v.as_str());
    }
    if let Some(v) = &q.name {
        f.eq("name", v.as_str());
    }
    let mut sql = format!(
        "SELECT {INTERFACE_COLS} FROM interfaces{} ORDER BY name, created_at, id",
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

/// The statement behind `dependencies`.
pub fn dependencies_sql(style: Placeholder, q: &DependencyQuery) -> (String, Filter) {
    let mut f = Filter::new(style);
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    if let Some(v) = &q.session_id {
        f.eq("session_id", v.as_str());
    }
    if let Some(v) = &q.name {
        f.eq("name", v.as_str());
    }
    let mut sql = format!(
        "SELECT {DEPENDENCY_COLS} FROM dependencies{} ORDER BY created_at, id",
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}
