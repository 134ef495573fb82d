//! The browser's endpoint: its key, its relay, pairing and connecting.

use iroh::{Endpoint, EndpointAddr, RelayMode, RelayUrl, SecretKey, endpoint::presets};
use tsify::Ts;
use vibemesh_core::{
    EndpointId,
    client::{self, PeerConnection, Redialer},
    ticket::Ticket,
};
use wasm_bindgen::prelude::*;

use crate::{
    Peer, Term, client_err, js_err,
    view::{PairedAgent, TicketView, to_js},
};

/// A fresh secret key, as 64 hex characters, for the page to store.
#[wasm_bindgen(js_name = newSecretKey)]
pub fn new_secret_key() -> String {
    data_encoding::HEXLOWER.encode(&SecretKey::generate().to_bytes())
}

/// What a ticket names; an error says what is wrong with the text.
#[wasm_bindgen(js_name = parseTicket)]
pub fn parse_ticket(text: &str) -> Result<Ts<TicketView>, JsValue> {
    let t = Ticket::parse(text).map_err(|e| js_err("BadTicket", e))?;
    to_js(&TicketView::from(&t))
}

/// The browser's iroh endpoint.
#[wasm_bindgen]
pub struct Node {
    ep: Endpoint,
    relay: RelayUrl,
}

impl Node {
    /// Where to reach agent `agent_id`: through `relay`, or the page's relay when empty.
    fn agent_addr(&self, agent_id: &str, relay: Option<String>) -> Result<EndpointAddr, JsValue> {
        let id: EndpointId = agent_id.parse().map_err(|e| js_err("BadRequest", e))?;
        let relay = relay
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| self.relay.to_string());
        Ok(client::dial_addr(id, &[], Some(&relay)))
    }
}

#[wasm_bindgen]
impl Node {
    /// Starts the endpoint with the stored key (64 hex characters) and the relay that
    /// served the page.
    pub async fn start(secret_hex: String, relay_url: String) -> Result<Node, JsValue> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(secret_hex.trim().as_bytes())
            .map_err(|_| js_err("BadKey", "the stored key is damaged"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| js_err("BadKey", "the stored key has the wrong length"))?;
        let relay: RelayUrl = relay_url.parse().map_err(|e| js_err("BadRelay", e))?;
        let ep = Endpoint::builder(presets::Minimal)
            .secret_key(SecretKey::from_bytes(&bytes))
            // Core's timeouts, as every other client: an agent that vanished (crashed,
            // lost its network) is noticed in about 3 s, not iroh's default 15 s.
            .transport_config(client::transport_config())
            .relay_mode(RelayMode::custom([relay.clone()]))
            .bind()
            .await
            .map_err(|e| js_err("ConnectionError", e))?;
        Ok(Node { ep, relay })
    }

    /// This browser's id (its public key).
    pub fn id(&self) -> String {
        self.ep.id().to_string()
    }

    /// Pairs with the agent a ticket names. Resolves to what the page remembers of it.
    pub async fn pair(&self, ticket: String, name: String) -> Result<Ts<PairedAgent>, JsValue> {
        let mut t = Ticket::parse(&ticket).map_err(|e| js_err("BadTicket", e))?;
        // A browser has no UDP: only the relay can reach the agent.
        t.addrs.clear();
        let relay = t.relay.clone().unwrap_or_else(|| self.relay.to_string());
        t.relay = Some(relay.clone());
        let accepted = client::pair(&self.ep, &t, &name)
            .await
            .map_err(client_err)?;
        to_js(&PairedAgent {
            id: t.id.to_string(),
            name: accepted.name,
            role: accepted.role.to_string(),
            relay,
        })
    }

    /// Connects to a paired agent through `relay` (the page's relay when empty).
    pub async fn connect(&self, agent_id: String, relay: Option<String>) -> Result<Peer, JsValue> {
        let addr = self.agent_addr(&agent_id, relay)?;
        let conn = PeerConnection::connect(&self.ep, addr.clone())
            .await
            .map_err(client_err)?;
        let redial = Redialer::with_connection(self.ep.clone(), addr, conn.clone());
        Peer::open(conn, redial).await
    }

    /// Attaches to session `id` on a paired agent that is not connected now (see
    /// [`Peer::attach`]): the terminal dials it, with core's backoff, until it answers.
    // A wasm-bindgen export takes plain arguments; a struct would need its own JS glue.
    #[allow(clippy::too_many_arguments)]
    pub fn attach(
        &self,
        agent_id: String,
        relay: Option<String>,
        id: String,
        cols: u16,
        rows: u16,
        scrollback: u32,
        #[wasm_bindgen(unchecked_param_type = "(ev: TermEvent) => void")]
        on_event: js_sys::Function,
    ) -> Result<Term, JsValue> {
        let addr = self.agent_addr(&agent_id, relay)?;
        let req = crate::peer::attach_request(&id, cols, rows, scrollback)?;
        Ok(Term::start(
            Redialer::new(self.ep.clone(), addr),
            req,
            on_event,
        ))
    }

    /// Closes the endpoint, so agents see the browser go at once rather than after an
    /// idle timeout.
    pub async fn close(&self) {
        self.ep.close().await;
    }
}
