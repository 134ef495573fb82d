//! Finding paired peers on the same link by multicast DNS, so a LAN with no internet (or
//! `relay = "none"`) keeps working after a peer's address changes: no new ticket needed.
//!
//! An agent announces only its endpoint id and direct addresses (what a ticket already
//! carries), under a service name of its own (`_vibemesh._udp.local`), never its name. A
//! stranger on the LAN learns that a VibeMesh agent with that id is there; connecting
//! still takes a paired key. iroh asks this lookup, besides the addresses it knows,
//! whenever it dials a peer.

use std::{net::SocketAddr, time::Duration};

use iroh::{Endpoint, EndpointId, address_lookup::AddressLookup};
use iroh_mdns_address_lookup::MdnsAddressLookup;
use n0_future::StreamExt;

/// The mDNS service name: `<endpoint id>._vibemesh._udp.local`.
pub const SERVICE: &str = "vibemesh";

/// How long [`Lan::seen`] waits: what the LAN announced is answered from memory at once.
const SEEN_WAIT: Duration = Duration::from_millis(200);

/// This agent's presence on the LAN, and what it heard there.
#[derive(Debug)]
pub struct Lan {
    mdns: MdnsAddressLookup,
}

impl Lan {
    /// Starts announcing `ep` and listening for others, as one of the endpoint's address
    /// lookups. `None` (with one warning) where the host allows no multicast: the agent
    /// works on without it.
    pub fn start(ep: &Endpoint) -> Option<Self> {
        let started = MdnsAddressLookup::builder()
            .service_name(SERVICE)
            .build(ep.id())
            .map_err(|e| e.to_string())
            .and_then(|mdns| {
                let services = ep.address_lookup().map_err(|e| e.to_string())?;
                services.add(mdns.clone());
                Ok(mdns)
            });
        match started {
            Ok(mdns) => Some(Self { mdns }),
            Err(e) => {
                tracing::warn!("LAN discovery is off: {e}");
                None
            }
        }
    }

    /// Where `id` announced itself on the LAN, if it did and has not gone quiet.
    pub async fn seen(&self, id: EndpointId) -> Option<Vec<SocketAddr>> {
        let mut items = self.mdns.resolve(id)?;
        let item = tokio::time::timeout(SEEN_WAIT, items.next())
            .await
            .ok()??
            .ok()?;
        let addrs: Vec<SocketAddr> = item.endpoint_info().ip_addrs().copied().collect();
        (!addrs.is_empty()).then_some(addrs)
    }
}
