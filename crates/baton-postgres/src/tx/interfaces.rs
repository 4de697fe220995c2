//! Interfaces and dependencies on PostgreSQL.

use super::*;

use baton_core::model::{Dependency, Interface};
use baton_core::store::{DependencyQuery, InterfaceQuery, InterfaceTx};
use baton_sql::{DEPENDENCY_COLS, INTERFACE_COLS, Placeholder, insert_sql};

const D: Placeholder = Placeholder::Dollar;

impl InterfaceTx for PgTx<'_> {
    fn insert_interface(&mut self, i: &Interface) -> Result<()> {
        self.defer(
            "record an interface",
            &insert_sql(D, "interfaces", INTERFACE_COLS),
            owned(baton_sql::interface_values(i)),
            refused_as_duplicate("declaration of interface", i.name.clone()),
        )
    }

    fn update_interface(&mut self, i: &Interface) -> Result<()> {
        self.defer(
            "update an interface",
            &baton_sql::update_interface_sql(D),
            owned(baton_sql::update_interface_values(i)),
            found("interface", i.id.to_string()),
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
        self.defer(
            "record a dependency",
            &insert_sql(D, "dependencies", DEPENDENCY_COLS),
            owned(baton_sql::dependency_values(d)),
            refused_as_duplicate("dependency on", d.name.clone()),
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
