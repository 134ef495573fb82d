//! The new-session form: machine, folder (with completions and recent folders), provider,
//! and for Claude and Codex whether to run them as a structured conversation or as their
//! own terminal interface.

use std::sync::{Arc, Mutex};

use egui::{RichText, Ui};
use vibemesh_core::proto::{Provider, ai::StartConversation, control::CreateSession};

use super::{
    DesktopApp,
    dialogs::{error_text, labelled_field},
};
use crate::{
    machines::Machines,
    model::{MachineKey, Reach, lock},
    settings::Prefs,
};

/// How an AI provider runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiMode {
    /// Structured: the app shows the conversation and answers approvals.
    Conversation,
    /// The provider's own full-screen interface in a terminal.
    Terminal,
}

/// Where the form's Start stands: the dialog stays open until the agent answered, and
/// says why when it refused (a folder that does not exist, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Starting {
    /// Not started yet.
    #[default]
    Idle,
    /// Asked; no answer yet.
    Waiting,
    /// Refused, with why.
    Failed(String),
    /// Started: its tab opens, the dialog closes.
    Started,
}

/// What the new-session form holds.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// On which machine.
    pub machine: MachineKey,
    /// In which folder.
    pub folder: String,
    /// With which provider.
    pub provider: Provider,
    /// For Claude and Codex: structured or terminal.
    pub mode: AiMode,
    /// For a conversation: a first message to send at once (may be empty).
    pub prompt: String,
    /// The folder text completions were last asked for.
    pub asked: String,
    /// Where Start stands (set from the request's task).
    pub starting: Arc<Mutex<Starting>>,
}

impl NewSession {
    /// The form for `machine`, in its most recent folder.
    pub fn new(machine: MachineKey, prefs: &Prefs) -> Self {
        Self {
            machine,
            folder: last_folder(machine, prefs),
            provider: Provider::Shell,
            mode: AiMode::Conversation,
            prompt: String::new(),
            asked: String::new(),
            starting: Arc::default(),
        }
    }
}

/// The folder a form for `machine` starts in: the last one used there, else home.
fn last_folder(machine: MachineKey, prefs: &Prefs) -> String {
    let key = machine.saved_name();
    prefs
        .recent(key.as_deref())
        .first()
        .cloned()
        .unwrap_or_else(|| "~".into())
}

impl DesktopApp {
    /// Draws the form; `true` once the session started (its tab is opening).
    pub(super) fn new_session(
        &mut self,
        ui: &mut Ui,
        machines: &Arc<Machines>,
        form: &mut NewSession,
    ) -> bool {
        let (names, info, completions) = {
            let m = lock(&self.model);
            let names: Vec<(MachineKey, String, bool)> = m
                .machines
                .iter()
                .map(|x| (x.key, x.name.clone(), x.reach == Reach::Online))
                .collect();
            let info = m.machine(form.machine).and_then(|x| x.info.clone());
            (names, info, m.completions.clone())
        };
        let was = form.machine;
        ui.horizontal(|ui| {
            ui.label("Machine:");
            for (key, name, online) in &names {
                ui.add_enabled_ui(*online, |ui| {
                    ui.radio_value(&mut form.machine, *key, name.as_str())
                });
            }
        });
        if form.machine != was {
            // Another machine: its own last folder, never the previous machine's.
            form.folder = last_folder(form.machine, &self.prefs);
        }
        self.folder_field(ui, machines, form, completions);
        ui.horizontal(|ui| {
            ui.label("Provider:");
            let available = info
                .as_ref()
                .map(|i| i.providers.clone())
                .unwrap_or_default();
            for p in [Provider::Shell, Provider::Claude, Provider::Codex] {
                let ok = available.contains(&p);
                let r = ui.add_enabled_ui(ok, |ui| {
                    ui.radio_value(&mut form.provider, p, p.to_string())
                });
                // Why it cannot run, or (for a login the agent did not see) a hint only:
                // a login in a keychain is invisible to the agent, so it is not refused.
                let why = info
                    .as_ref()
                    .and_then(|i| i.provider_status.iter().find(|s| s.provider == p))
                    .and_then(|s| s.unavailable.as_ref())
                    .map(|u| u.to_string())
                    .or_else(|| (!ok).then(|| "not available".to_string()));
                if let Some(why) = why {
                    ui.label(RichText::new(format!("({why})")).small());
                    r.response
                        .on_disabled_hover_text(format!("{p} is {why} on that machine"));
                }
            }
        });
        let ai = form.provider != Provider::Shell;
        if ai {
            ui.horizontal(|ui| {
                ui.label("Run as:");
                ui.radio_value(&mut form.mode, AiMode::Conversation, "Conversation")
                    .on_hover_text("Structured: messages, tool calls and approvals in the app");
                ui.radio_value(&mut form.mode, AiMode::Terminal, "Terminal")
                    .on_hover_text("The provider's own interface in a terminal");
            });
            if form.mode == AiMode::Conversation {
                labelled_field(ui, "First message", &mut form.prompt, true);
            }
        }
        if info.is_none() {
            error_text(ui, "That machine is not reachable right now.");
        }
        let starting = lock(&form.starting).clone();
        if let Starting::Failed(why) = &starting {
            error_text(ui, why);
        }
        let waiting = starting == Starting::Waiting;
        let start = ui
            .horizontal(|ui| {
                let start = ui
                    .add_enabled(info.is_some() && !waiting, egui::Button::new("Start"))
                    .clicked();
                if waiting {
                    ui.spinner();
                    ui.label("Starting…");
                }
                start
            })
            .inner;
        if start {
            *lock(&form.starting) = Starting::Waiting;
            self.start_session(machines, form);
        }
        starting == Starting::Started
    }

    /// The folder field with completions from the machine and recent folders.
    fn folder_field(
        &mut self,
        ui: &mut Ui,
        machines: &Arc<Machines>,
        form: &mut NewSession,
        completions: Option<(String, Vec<String>)>,
    ) {
        let field = labelled_field(ui, "Folder", &mut form.folder, false);
        if field.changed() || (form.asked.is_empty() && !form.folder.is_empty()) {
            form.asked = form.folder.clone();
            machines.complete(form.machine, form.folder.clone());
        }
        if let Some((for_text, found)) = completions
            && for_text == form.folder
            && !found.is_empty()
        {
            ui.horizontal_wrapped(|ui| {
                for f in found {
                    if ui.small_button(&f).clicked() {
                        form.folder = f.clone();
                        form.asked = f.clone();
                        machines.complete(form.machine, f);
                    }
                }
            });
        }
        let recent = self
            .prefs
            .recent(form.machine.saved_name().as_deref())
            .to_vec();
        if !recent.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label("Recent:");
                for f in recent {
                    if ui.small_button(&f).clicked() {
                        form.folder = f;
                    }
                }
            });
        }
    }

    /// Starts what the form says; its tab opens when the agent answers.
    fn start_session(&mut self, machines: &Arc<Machines>, form: &NewSession) {
        let cwd = form.folder.trim().to_string();
        self.prefs
            .remember_folder(form.machine.saved_name().as_deref(), &cwd);
        self.save_prefs();
        let cwd = (!cwd.is_empty()).then_some(cwd);
        let opened = self.opened.clone();
        let starting = form.starting.clone();
        let then = move |key, answer: Result<_, String>| {
            *lock(&starting) = match answer {
                Ok(info) => {
                    lock(&opened).push((key, info));
                    Starting::Started
                }
                Err(why) => Starting::Failed(why),
            };
        };
        if form.provider != Provider::Shell && form.mode == AiMode::Conversation {
            let prompt = form.prompt.trim();
            let req = StartConversation {
                provider: form.provider,
                cwd,
                title: None,
                prompt: (!prompt.is_empty()).then(|| prompt.to_string()),
            };
            machines.start_conversation(form.machine, req, then);
        } else {
            let req = CreateSession {
                provider: form.provider,
                cwd,
                command: vec![],
                size: self.term_size,
                title: None,
                env: vec![],
            };
            machines.create_session(form.machine, req, then);
        }
    }
}
