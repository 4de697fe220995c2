//! Interfaces and dependencies on PostgreSQL.

use super::*;

use baton_core::model::{Dependency, Interface};
use baton_core::store::{DependencyQuery, InterfaceQuery, InterfaceTx};
use baton_sql::{DEPENDENCY_COLS, INTERFACE_COLS, Placeholder, insert_sql};

const D: Placeholder = Placeholder::Dollar;

impl InterfaceTx for PgTx<'_> {
    fn insert_interface(&mut self, i: &Interface) -> Result<()> {
        let name = i.name.clone();
        self.defer(
            "record an interface",
            &insert_sql(D, "interfaces", INTERFACE_COLS),
            owned(baton_sql::interface_values(i)),
            Box::new(move |outcome| match outcome {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Err(baton_sql::refused_duplicate("declaration of interface", &name))
                }
                Err(e) => Err(pg_error("record an interface", &e)),
            }),
        )
    }

    fn update_interface(&mut self, i: &Interface) -> Result<()> {
        let id = i.id.to_string();
        self.defer(
            "update an interface",
            &baton_sql::update_interface_sql(D),
            owned(baton_sql::update_interface_values(i)),
            Box::new(move |outcome| match outcome {
                Ok(0) => Err(baton_sql::nothing_to_update("interface", &id)),
                Ok(_) => Ok(()),
                Err(e) => Err(pg_error("update an interface", &e)),
            }),
        )
    }

    fn interfaces(&mut self, q: &InterfaceQuery) -> Result<Vec<Interface>> {
        let (mut sql, f) = baton_sql::interfaces_sql(D, q);
        sql.push_str(self.lock_clause());
        self.query("list interfaces", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::interface(&PgRow(r)))
            .collect()
    }

    fn insert_dependency(&mut self, d: &Dependency) -> Result<()> {
        let name = d.name.clone();
        self.defer(
            "record a dependency",
            &insert_sql(D, "dependencies", DEPENDENCY_COLS),
            owned(baton_sql::dependency_values(d)),
            Box::new(move |outcome| match outcome {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Err(baton_sql::refused_duplicate("dependency on", &name))
                }
                Err(e) => Err(pg_error("record a dependency", &e)),
            }),
        )
    }

    fn dependencies(&mut self, q: &DependencyQuery) -> Result<Vec<Dependency>> {
        let (sql, f) = baton_sql::dependencies_sql(D, q);
        self.query("list dependencies", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::dependency(&PgRow(r)))
            .collect()
    }
}
