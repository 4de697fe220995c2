//! Integrity: what the rules' checks read that no other primitive can.

use crate::error::Result;
use crate::model::{ClaimState, EntryKind, ReleaseStatus, RequestKind, RequestStatus, SessionStatus};

/// A stored column that holds one of a closed set of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumColumn {
    SessionStatus,
    ClaimState,
    ReleaseStatus,
    EntryKind,
    RequestStatus,
    RequestKind,
}

impl EnumColumn {
    /// Every such column.
    pub const ALL: &'static [EnumColumn] = &[
        EnumColumn::SessionStatus,
        EnumColumn::ClaimState,
        EnumColumn::ReleaseStatus,
        EnumColumn::EntryKind,
        EnumColumn::RequestStatus,
        EnumColumn::RequestKind,
    ];

    /// The names the column may hold.
    pub fn accepted(self) -> Vec<&'static str> {
        match self {
            EnumColumn::SessionStatus => SessionStatus::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::ClaimState => ClaimState::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::ReleaseStatus => ReleaseStatus::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::EntryKind => EntryKind::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::RequestStatus => RequestStatus::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::RequestKind => RequestKind::ALL.iter().map(|s| s.as_str()).collect(),
        }
    }

    /// What holds the column, in words: `sessions`, `claims`, `journal entries`.
    pub fn holder(self) -> &'static str {
        match self {
            EnumColumn::SessionStatus => "sessions",
            EnumColumn::ClaimState => "claims",
            EnumColumn::ReleaseStatus => "claims' release statuses",
            EnumColumn::EntryKind => "journal entries",
            EnumColumn::RequestStatus => "requests",
            EnumColumn::RequestKind => "requests' types",
        }
    }
}

/// Reads for the integrity checks of [`crate::integrity`]. Part of [`super::Tx`].
pub trait IntegrityTx {
    /// Up to `limit` distinct values stored in `column` that are not among [`EnumColumn::accepted`]
    /// (a missing release status is no value). Rows holding them cannot be read back as the model's types.
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>>;
}
