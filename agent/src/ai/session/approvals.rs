//! Approvals: the provider asks to run a tool, a client answers (or an earlier
//! "always" does), or the provider withdraws the question.

use vibemesh_core::{
    ErrorCode, WireError,
    proto::ai::{AiEvent, Decision},
};

use super::{Conv, DriverCmd, lock};

impl Conv {
    /// The provider asks to run a tool. Returns the answer when an earlier "always"
    /// already gave it; otherwise the request waits for a client.
    pub fn request_approval(
        &self,
        id: String,
        tool: String,
        input: String,
        description: Option<String>,
    ) -> Option<bool> {
        let auto = {
            let mut i = lock(&self.inner);
            let auto = i.always.contains(&tool);
            if !auto {
                i.pending.insert(id.clone(), tool.clone());
            }
            self.record_locked(
                &mut i,
                AiEvent::Approval {
                    id: id.clone(),
                    tool,
                    input,
                    description,
                },
            );
            if auto {
                self.record_locked(
                    &mut i,
                    AiEvent::Settled {
                        id,
                        decision: Decision::AllowAlways,
                    },
                );
            }
            auto
        };
        self.changed();
        auto.then_some(true)
    }

    /// A client's answer; the first one wins, later ones are refused.
    pub fn answer(&self, id: &str, decision: Decision) -> Result<(), WireError> {
        {
            let mut i = lock(&self.inner);
            let Some(tool) = i.pending.remove(id) else {
                return Err(WireError::new(
                    ErrorCode::Conflict,
                    format!("approval {id} was already answered"),
                ));
            };
            if decision == Decision::AllowAlways {
                i.always.insert(tool);
            }
            self.record_locked(
                &mut i,
                AiEvent::Settled {
                    id: id.to_string(),
                    decision,
                },
            );
            if let Some((_, tx)) = &i.driver {
                let _ = tx.send(DriverCmd::Answer {
                    id: id.to_string(),
                    allow: decision != Decision::Deny,
                });
            }
        }
        self.changed();
        Ok(())
    }

    /// The provider withdrew an approval request (the turn was interrupted, say).
    pub fn cancel_approval(&self, id: &str) {
        {
            let mut i = lock(&self.inner);
            if i.pending.remove(id).is_none() {
                return;
            }
            self.record_locked(
                &mut i,
                AiEvent::Settled {
                    id: id.to_string(),
                    decision: Decision::Deny,
                },
            );
        }
        self.changed();
    }
}
