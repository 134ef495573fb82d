//! Starting and attaching structured AI sessions from the phone.

use std::sync::Arc;

use vibemesh_core::proto::ai::StartConversation;

use crate::{
    AiProvider, ConversationHandle, ConversationListener, Mesh, MeshError, mesh::keep,
    runtime::run_on,
};

#[uniffi::export(async_runtime = "tokio")]
impl Mesh {
    /// Starts a structured AI session (`provider` in its machine interface, not a
    /// terminal) on `machine` in the folder `path` (the home folder when empty), with
    /// `prompt` as its first message when given, and returns its id.
    pub async fn start_conversation(
        &self,
        machine: String,
        provider: AiProvider,
        path: String,
        prompt: Option<String>,
    ) -> Result<String, MeshError> {
        let core = self.core.clone();
        run_on(&self.rt, async move {
            let m = core.find(&machine)?;
            let req = StartConversation {
                provider: provider.into(),
                cwd: (!path.is_empty()).then_some(path),
                title: None,
                prompt: prompt.filter(|p| !p.trim().is_empty()),
            };
            // Not retried on a lost connection: the first request may have started the
            // session already, and a retry would start a second one.
            let link = core.links.get(&m).await?;
            let info = link
                .control
                .start_conversation(req)
                .await
                .map_err(|e| link.conn.closed_or(e))?;
            Ok(info.id.to_string())
        })
        .await
    }

    /// Attaches to a structured session's conversation: `listener` gets the whole
    /// conversation, then every change, and the handle sends messages, approvals and
    /// interrupts.
    pub async fn open_conversation(
        &self,
        machine: String,
        session_id: String,
        listener: Arc<dyn ConversationListener>,
    ) -> Result<Arc<ConversationHandle>, MeshError> {
        let handle = ConversationHandle::new(self.target(&machine, &session_id)?, listener);
        run_on(&self.rt, handle.clone().attach_now()).await?;
        keep(&self.core.conversations, &handle);
        Ok(handle)
    }
}
