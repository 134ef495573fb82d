//! Files under the agent's allowed roots: the path guard and the file operations.
//!
//! SKELETON: being implemented; every operation answers "not available yet".

use std::path::PathBuf;

use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        Role,
        files::{FileRequest, FileResponse},
    },
};

/// The file service of one agent.
#[derive(Debug, Clone)]
pub struct Files {
    roots: Vec<PathBuf>,
}

impl Files {
    /// Serves files under `roots` (absolute folders).
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self { roots }
    }

    /// The allowed roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Resolves a client's path (absolute, or `~`-relative) to a real path inside the
    /// roots, or refuses it with [`ErrorCode::OutsideRoots`].
    pub fn resolve(&self, path: &str) -> Result<PathBuf, WireError> {
        Err(WireError::new(
            ErrorCode::Internal,
            format!("files are not available yet ({path})"),
        ))
    }

    /// Answers one file request for a caller with `role`.
    pub async fn handle(&self, req: FileRequest, role: Role) -> Result<FileResponse, WireError> {
        let _ = (req, role);
        Err(WireError::new(
            ErrorCode::Internal,
            "files are not available yet",
        ))
    }
}
