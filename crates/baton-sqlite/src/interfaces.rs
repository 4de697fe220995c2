//! Interfaces and dependencies on SQLite.

use super::*;

use baton_core::model::{Dependency, Interface};
use baton_core::store::{DependencyQuery, InterfaceQuery, InterfaceTx};
use baton_sql::{DEPENDENCY_COLS, INTERFACE_COLS};

const Q: Placeholder = Placeholder::Question;

impl InterfaceTx for SqliteTx<'_> {
    fn insert_interface(&mut self, i: &Interface) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_duplicate("declaration of interface", &i.name),
            &insert_sql(Q, "interfaces", INTERFACE_COLS),
            bind(&baton_sql::interface_values(i)),
        )?;
        Ok(())
    }

    fn update_interface(&mut self, i: &Interface) -> Result<()> {
        let n = self.exec(
            &baton_sql::update_interface_sql(Q),
            bind(&baton_sql::update_interface_values(i)),
        )?;
        if n == 0 {
            return Err(baton_sql::nothing_to_update("interface", &i.id));
        }
        Ok(())
    }

    fn interfaces(&mut self, q: &InterfaceQuery) -> Result<Vec<Interface>> {
        let (sql, f) = baton_sql::interfaces_sql(Q, q);
        self.query(&sql, &f.params, baton_sql::interface)
    }

    fn insert_dependency(&mut self, d: &Dependency) -> Result<()> {
        self.exec_or(
            |_| baton_sql::refused_duplicate("dependency on", &d.name),
            &insert_sql(Q, "dependencies", DEPENDENCY_COLS),
            bind(&baton_sql::dependency_values(d)),
        )?;
        Ok(())
    }

    fn dependencies(&mut self, q: &DependencyQuery) -> Result<Vec<Dependency>> {
        let (sql, f) = baton_sql::dependencies_sql(Q, q);
        self.query(&sql, &f.params, baton_sql::dependency)
    }
}
